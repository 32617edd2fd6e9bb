'use strict';
// Drives weft's CA with the unmodified fabric-ca-client npm package.
// Input: JSON {url, caName, tlsRootPem, adminId, adminSecret, mspId}.
// It records what the client returns (certificates, results, error codes)
// as JSON on stdout; the verdicts are in test/ca/ca_test.go.
const fs = require('fs');
const FabricCAServices = require('fabric-ca-client');
const { User } = require('fabric-common');

// Errors of the client carry the server's {errors:[{code,message}]}.
function errorOf(err) {
  return { message: String(err.message || err), errors: err.errors || null };
}

async function asUser(name, enrollment, mspId, cryptoSuite) {
  const u = new User(name);
  u.setCryptoSuite(cryptoSuite);
  await u.setEnrollment(enrollment.key, enrollment.certificate, mspId);
  return u;
}

async function main() {
  const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const ca = new FabricCAServices(input.url, { trustedRoots: [input.tlsRootPem], verify: true }, input.caName);
  const cs = ca.getCryptoSuite();
  const out = {};

  const adminEnr = await ca.enroll({ enrollmentID: input.adminId, enrollmentSecret: input.adminSecret });
  out.adminCert = adminEnr.certificate;
  out.adminRootCert = adminEnr.rootCertificate;
  const admin = await asUser(input.adminId, adminEnr, input.mspId, cs);

  out.caInfo = await ca.getCaInfo(admin);

  out.userSecret = await ca.register({
    enrollmentID: 'user1', affiliation: 'org1.department1', role: 'client', maxEnrollments: 2,
    attrs: [{ name: 'app.role', value: 'auditor', ecert: true }, { name: 'app.level', value: '3' }],
  }, admin);

  const userEnr = await ca.enroll({ enrollmentID: 'user1', enrollmentSecret: out.userSecret });
  out.userCert = userEnr.certificate;
  const user = await asUser('user1', userEnr, input.mspId, cs);

  const re = await ca.reenroll(user, [{ name: 'app.level' }, { name: 'app.missing', optional: true }]);
  out.reenrollCert = re.certificate;

  const ids = ca.newIdentityService();
  out.identity = (await ids.getOne('user1', admin)).result;
  out.identities = (await ids.getAll(admin)).result.identities.map((i) => i.id).sort();

  const affs = ca.newAffiliationService();
  out.affiliationCreated = (await affs.create({ name: 'org3.unit1', force: true, caname: input.caName }, admin)).result;
  out.affiliation = (await affs.getOne('org3', admin)).result;

  const certs = await ca.newCertificateService().getCertificates({ id: 'user1', ca: input.caName }, admin);
  out.userCertCount = certs.result.certs.length;

  const rev = await ca.revoke({ enrollmentID: 'user1', reason: 'keycompromise', gencrl: true }, admin);
  out.revoke = rev.result;

  out.crl = await ca.generateCRL({}, admin);

  try {
    await ca.reenroll(user);
    out.revokedReenrollError = null;
  } catch (err) {
    out.revokedReenrollError = errorOf(err);
  }
  try {
    await ca.enroll({ enrollmentID: input.adminId, enrollmentSecret: 'wrong' });
    out.wrongSecretError = null;
  } catch (err) {
    out.wrongSecretError = errorOf(err);
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`ca.js: ${err.stack || err}\n${JSON.stringify(err.errors || null)}\n`);
  process.exit(1);
});
