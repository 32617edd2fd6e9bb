'use strict';
// An org admin's script against the CA that `weft up` runs, with the
// unmodified fabric-ca-client package and only the files weft wrote:
// the org's connection profile (certificateAuthorities, registrar) and a
// user's MSP folder.
//
//   node ca-flow.js <weft-data> <work dir> <user> enroll
//     enrolls the registrar, registers <user> with attributes, enrolls it
//     (asking for an attribute), reenrolls it, submits a transaction as
//     it with @hyperledger/fabric-gateway, revokes it and fetches a CRL.
//     The user's last key pair is kept in <work dir> for the check phase.
//   node ca-flow.js <weft-data> <work dir> <user> check
//     tries an evaluate and a submit as the (revoked) user; prints what the
//     peer answered.
// Both print one JSON object on stdout.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const { connect, signers, hash } = require('@hyperledger/fabric-gateway');
const FabricCAServices = require('fabric-ca-client');
const { User } = require('fabric-common');

const ORG = 'Org1';
const ATTR = 'app.role';

function loadProfile(data) {
  const dir = path.join(data, 'organizations', 'peerOrganizations', 'org1.example.com');
  return JSON.parse(fs.readFileSync(path.join(dir, 'connection-org1.json'), 'utf8'));
}

function caOf(profile) {
  const name = profile.organizations[ORG].certificateAuthorities[0];
  const info = profile.certificateAuthorities[name];
  const ca = new FabricCAServices(info.url, { trustedRoots: info.tlsCACerts.pem, verify: info.httpOptions.verify }, info.caName);
  return { ca, info };
}

function serialOf(certPEM) {
  return new crypto.X509Certificate(certPEM).serialNumber.toLowerCase().replace(/^0+/, '');
}

async function withContract(profile, certPEM, keyPEM, fn) {
  const peerName = profile.organizations[ORG].peers[0];
  const peer = profile.peers[peerName];
  const client = new grpc.Client(peer.url.replace(/^grpcs:\/\//, ''),
    grpc.credentials.createSsl(Buffer.from(peer.tlsCACerts.pem)),
    { 'grpc.ssl_target_name_override': peer.grpcOptions['ssl-target-name-override'] });
  const gateway = connect({
    client,
    identity: { mspId: profile.organizations[ORG].mspid, credentials: Buffer.from(certPEM) },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(keyPEM)),
    hash: hash.sha256,
  });
  try {
    return await fn(gateway.getNetwork('mychannel').getContract('basic'));
  } finally {
    gateway.close();
    client.close();
  }
}

function describeError(e) {
  const out = { message: String(e && e.message), code: e && e.code };
  if (e && Array.isArray(e.details)) {
    out.details = e.details.map((d) => ({ address: d.address, mspId: d.mspId, message: d.message }));
  }
  return out;
}

async function enrollPhase(data, work, userId) {
  const profile = loadProfile(data);
  const { ca, info } = caOf(profile);
  const mspId = profile.organizations[ORG].mspid;
  const reg = info.registrar[0];

  const adminEnr = await ca.enroll({ enrollmentID: reg.enrollId, enrollmentSecret: reg.enrollSecret });
  const admin = User.createUser(reg.enrollId, reg.enrollSecret, mspId, adminEnr.certificate, adminEnr.key.toBytes());

  const secret = await ca.register({
    enrollmentID: userId, role: 'client', affiliation: 'org1.department1', maxEnrollments: -1,
    attrs: [{ name: ATTR, value: 'auditor', ecert: true }],
  }, admin);
  const enr = await ca.enroll({ enrollmentID: userId, enrollmentSecret: secret, attr_reqs: [{ name: ATTR, optional: false }] });
  const attrInCert = Buffer.from(new crypto.X509Certificate(enr.certificate).raw).includes(`"${ATTR}":"auditor"`);

  const user = User.createUser(userId, secret, mspId, enr.certificate, enr.key.toBytes());
  const re = await ca.reenroll(user, [{ name: ATTR, optional: false }]);
  const cert = re.certificate;
  const key = re.key.toBytes();
  fs.writeFileSync(path.join(work, `${userId}-cert.pem`), cert);
  fs.writeFileSync(path.join(work, `${userId}-key.pem`), key, { mode: 0o600 });

  const assetId = `${userId}-asset`;
  await withContract(profile, cert, key, async (contract) => {
    await contract.submitTransaction('CreateAsset', assetId, 'green', '3', userId, '42');
  });
  const asset = await withContract(profile, cert, key, async (contract) =>
    JSON.parse(Buffer.from(await contract.evaluateTransaction('ReadAsset', assetId)).toString()));

  const certs = await ca.newCertificateService().getCertificates({}, admin);
  const listed = (certs.result.certs || []).map((c) => serialOf(c.PEM));

  const revoked = await ca.revoke({ enrollmentID: userId, reason: 'keycompromise' }, admin);
  const crl = await ca.generateCRL({}, admin);
  fs.writeFileSync(path.join(work, 'org1.crl'), Buffer.from(crl, 'base64'));

  process.stdout.write(JSON.stringify({
    caName: ca.getCaName(),
    enrolledSerial: serialOf(enr.certificate),
    reenrolledSerial: serialOf(cert),
    attrInCert,
    assetOwner: asset.Owner,
    listedSerials: listed,
    revokedSerials: (revoked.result.RevokedCerts || []).map((c) => c.Serial.toLowerCase().replace(/^0+/, '')),
    crlBytes: Buffer.from(crl, 'base64').length,
  }));
}

async function checkPhase(data, work, userId) {
  const profile = loadProfile(data);
  const cert = fs.readFileSync(path.join(work, `${userId}-cert.pem`), 'utf8');
  const key = fs.readFileSync(path.join(work, `${userId}-key.pem`), 'utf8');
  const result = {};
  try {
    await withContract(profile, cert, key, (c) => c.evaluateTransaction('ReadAsset', `${userId}-asset`));
    result.evaluate = { ok: true };
  } catch (e) {
    result.evaluate = describeError(e);
  }
  try {
    await withContract(profile, cert, key, (c) => c.submitTransaction('CreateAsset', `${userId}-after`, 'red', '1', userId, '1'));
    result.submit = { ok: true };
  } catch (e) {
    result.submit = describeError(e);
  }
  process.stdout.write(JSON.stringify(result));
}

async function main() {
  const [data, work, userId, phase] = process.argv.slice(2);
  if (!data || !work || !userId || !['enroll', 'check'].includes(phase)) {
    throw new Error('usage: node ca-flow.js <weft-data> <work dir> <user> enroll|check');
  }
  if (phase === 'enroll') {
    await enrollPhase(data, work, userId);
  } else {
    await checkPhase(data, work, userId);
  }
}

main().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
