'use strict';
// Decodes a genesis/config block with @hyperledger/fabric-protos and prints
// a structural summary of its channel config: for every group path, its
// child groups, values and policies with their mod_policy and version, and
// the decoded content of the values and policies weft's tests check.
// Input: JSON {block: base64}.
const fs = require('fs');
const p = require('@hyperledger/fabric-protos');

const roleNames = ['MEMBER', 'ADMIN', 'CLIENT', 'PEER', 'ORDERER'];

function principal(id) {
  if (id.getPrincipalClassification() !== 0) return `class${id.getPrincipalClassification()}`;
  const r = p.common.MSPRole.deserializeBinary(id.getPrincipal());
  return `${r.getMspIdentifier()}.${roleNames[r.getRole()]}`;
}

function rule(r) {
  if (r.hasSignedBy()) return `SignedBy(${r.getSignedBy()})`;
  const n = r.getNOutOf();
  return `OutOf(${n.getN()},${n.getRulesList().map(rule).join(',')})`;
}

function policy(pol) {
  const type = pol.getType();
  if (type === 1) {
    const env = p.common.SignaturePolicyEnvelope.deserializeBinary(pol.getValue());
    return { type: 'SIGNATURE', rule: rule(env.getRule()), identities: env.getIdentitiesList().map(principal) };
  }
  if (type === 3) {
    const im = p.common.ImplicitMetaPolicy.deserializeBinary(pol.getValue());
    return { type: 'IMPLICIT_META', rule: ['ANY', 'ALL', 'MAJORITY'][im.getRule()], subPolicy: im.getSubPolicy() };
  }
  return { type: `type${type}` };
}

const decoders = {
  BatchSize: (b) => { const m = p.orderer.BatchSize.deserializeBinary(b); return [m.getMaxMessageCount(), m.getAbsoluteMaxBytes(), m.getPreferredMaxBytes()]; },
  BatchTimeout: (b) => p.orderer.BatchTimeout.deserializeBinary(b).getTimeout(),
  ChannelRestrictions: (b) => p.orderer.ChannelRestrictions.deserializeBinary(b).getMaxCount(),
  Capabilities: (b) => p.common.Capabilities.deserializeBinary(b).getCapabilitiesMap().getEntryList().map((e) => e[0]).sort(),
  HashingAlgorithm: (b) => p.common.HashingAlgorithm.deserializeBinary(b).getName(),
  BlockDataHashingStructure: (b) => p.common.BlockDataHashingStructure.deserializeBinary(b).getWidth(),
  Endpoints: (b) => p.common.OrdererAddresses.deserializeBinary(b).getAddressesList(),
  OrdererAddresses: (b) => p.common.OrdererAddresses.deserializeBinary(b).getAddressesList(),
  AnchorPeers: (b) => p.peer.AnchorPeers.deserializeBinary(b).getAnchorPeersList().map((a) => `${a.getHost()}:${a.getPort()}`),
  ACLs: (b) => p.peer.ACLs.deserializeBinary(b).getAclsMap().getEntryList().map((e) => `${e[0]}=${e[1][0]}`).sort(),
  MSP: (b) => {
    const m = p.msp.MSPConfig.deserializeBinary(b);
    const f = p.msp.FabricMSPConfig.deserializeBinary(m.getConfig());
    const ous = f.getFabricNodeOus();
    return {
      type: m.getType(), name: f.getName(), rootCerts: f.getRootCertsList().length, tlsRootCerts: f.getTlsRootCertsList().length,
      nodeOUs: ous ? ous.getEnable() : false,
      ouIdentifiers: ous ? [ous.getClientOuIdentifier(), ous.getPeerOuIdentifier(), ous.getAdminOuIdentifier(), ous.getOrdererOuIdentifier()]
        .map((o) => (o ? o.getOrganizationalUnitIdentifier() : '')) : [],
    };
  },
  ConsensusType: (b) => {
    const ct = p.orderer.ConsensusType.deserializeBinary(b);
    const md = p.orderer.etcdraft.ConfigMetadata.deserializeBinary(ct.getMetadata());
    const o = md.getOptions();
    return {
      type: ct.getType(), state: ct.getState(),
      consenters: md.getConsentersList().map((c) => `${c.getHost()}:${c.getPort()}`),
      consenterCertsPresent: md.getConsentersList().every((c) => c.getClientTlsCert().length > 0 && c.getServerTlsCert().length > 0),
      options: [o.getTickInterval(), o.getElectionTick(), o.getHeartbeatTick(), o.getMaxInflightBlocks(), o.getSnapshotIntervalSize()],
    };
  },
};

function walk(path, g, out) {
  const entry = { version: g.getVersion(), modPolicy: g.getModPolicy(), groups: [], values: {}, policies: {} };
  out[path] = entry;
  for (const [k, child] of g.getGroupsMap().getEntryList().map((e) => [e[0], g.getGroupsMap().get(e[0])])) {
    entry.groups.push(k);
    walk(`${path}/${k}`, child, out);
  }
  entry.groups.sort();
  for (const [k] of g.getValuesMap().getEntryList()) {
    const v = g.getValuesMap().get(k);
    const dec = decoders[k];
    entry.values[k] = { version: v.getVersion(), modPolicy: v.getModPolicy(), content: dec ? dec(v.getValue()) : null };
  }
  for (const [k] of g.getPoliciesMap().getEntryList()) {
    const cp = g.getPoliciesMap().get(k);
    entry.policies[k] = { version: cp.getVersion(), modPolicy: cp.getModPolicy(), policy: policy(cp.getPolicy()) };
  }
}

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const block = p.common.Block.deserializeBinary(Buffer.from(input.block, 'base64'));
const env = p.common.Envelope.deserializeBinary(block.getData().getDataList()[0]);
const payload = p.common.Payload.deserializeBinary(env.getPayload());
const chdr = p.common.ChannelHeader.deserializeBinary(payload.getHeader().getChannelHeader());
const cfgEnv = p.common.ConfigEnvelope.deserializeBinary(payload.getData());
const tree = {};
walk('Channel', cfgEnv.getConfig().getChannelGroup(), tree);
const md = block.getMetadata().getMetadataList();
const sigs = p.common.Metadata.deserializeBinary(md[0]);
const obm = p.common.OrdererBlockMetadata.deserializeBinary(sigs.getValue());
process.stdout.write(JSON.stringify({
  number: block.getHeader().getNumber(),
  previousHashLen: block.getHeader().getPreviousHash().length,
  dataHashLen: block.getHeader().getDataHash().length,
  metadataSlots: md.length,
  lastConfig: obm.getLastConfig().getIndex(),
  headerType: chdr.getType(),
  channelId: chdr.getChannelId(),
  sequence: cfgEnv.getConfig().getSequence(),
  tree,
}));
