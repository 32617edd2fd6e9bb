'use strict';
// Drives a weft peer with the official @hyperledger/fabric-gateway client,
// the way a fabric-samples application does. Input (argv[2], JSON):
// {endpoint, tlsRootCert, hostAlias, mspId, certPem, keyPem, channel,
//  chaincode, assetId, otherEndpoint, otherTlsRootCert}; the other peer is
//  the second org's, which every endorsement also runs on. Output: JSON with what each step returned, so the
// Go test can check it against exact expectations. The app only records;
// the verdicts are the Go test's.
const crypto = require('crypto');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const { connect, signers, hash } = require('@hyperledger/fabric-gateway');
const { common } = require('@hyperledger/fabric-protos');

const utf8 = (b) => Buffer.from(b).toString('utf8');
const parse = (b) => JSON.parse(utf8(b));

// Every wait on the network is bounded, so that a missing event or status
// fails the run with its name instead of hanging it.
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Collects items of an event stream until done(items) holds, then closes it.
async function readUntil(stream, what, done) {
  const got = [];
  try {
    await within(30000, what, (async () => {
      for await (const item of stream) {
        got.push(item);
        if (done(got)) return;
      }
    })());
  } finally {
    stream.close();
  }
  return got;
}

async function chainHeight(network, channel) {
  const info = await network.getContract('qscc').evaluateTransaction('GetChainInfo', channel);
  return Number(common.BlockchainInfo.deserializeBinary(info).getHeight());
}

function eventJSON(ev) {
  return {
    name: ev.eventName, txId: ev.transactionId, blockNumber: Number(ev.blockNumber),
    chaincode: ev.chaincodeName, payload: utf8(ev.payload),
  };
}

// A full block as the test needs it: its number and, per envelope, the
// transaction id and the validation code the committer put in the
// TRANSACTIONS_FILTER metadata.
function blockJSON(block) {
  const filter = block.getMetadata().getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
  const txs = block.getData().getDataList_asU8().map((raw, i) => {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(raw).getPayload_asU8());
    const chdr = common.ChannelHeader.deserializeBinary(payload.getHeader().getChannelHeader_asU8());
    return { txId: chdr.getTxId(), type: chdr.getType(), code: filter[i] };
  });
  return { number: Number(block.getHeader().getNumber()), txs };
}

function filteredBlockJSON(fb) {
  const txs = fb.getFilteredTransactionsList().map((ft) => {
    const actions = ft.getTransactionActions();
    const events = actions ? actions.getChaincodeActionsList().map((a) => {
      const ev = a.getChaincodeEvent();
      return { name: ev.getEventName(), chaincode: ev.getChaincodeId(), txId: ev.getTxId(), payloadLength: ev.getPayload_asU8().length };
    }) : [];
    return { txId: ft.getTxid(), type: ft.getType(), code: ft.getTxValidationCode(), events };
  });
  return { channel: fb.getChannelId(), number: Number(fb.getNumber()), txs };
}

// Records each submitted transaction with its commit status, in order.
// A commit status comes from the app's own peer; the next endorsement also
// runs on the other org's peer, which must have committed the block too,
// or it simulates on older state (Fabric's gateway does not wait either).
class Ledger {
  constructor(contract, otherNetwork) {
    this.contract = contract;
    this.other = otherNetwork;
    this.txs = [];
  }

  async bothPeersHave(block) {
    await readUntil(await this.other.getFilteredBlockEvents({ startBlock: BigInt(block) }),
      `block ${block} on the other peer`, () => true);
  }

  async settle(fn, args, commit) {
    const s = await within(60000, `status of ${fn}(${args})`, commit.getStatus());
    const tx = {
      fn, args, txId: commit.getTransactionId(),
      status: { code: s.code, successful: s.successful, blockNumber: Number(s.blockNumber) },
    };
    this.txs.push(tx);
    await this.bothPeersHave(tx.status.blockNumber);
    return tx;
  }

  async submit(fn, ...args) {
    return this.settle(fn, args, await this.contract.submitAsync(fn, { arguments: args }));
  }

  // Submits several transactions before waiting for any of them, so they
  // are ordered together.
  async submitAll(calls) {
    const commits = await Promise.all(calls.map(([fn, ...args]) => this.contract.submitAsync(fn, { arguments: args })));
    const out = [];
    for (let i = 0; i < calls.length; i++) {
      out.push(await this.settle(calls[i][0], calls[i].slice(1), commits[i]));
    }
    return out;
  }

  async evaluate(fn, ...args) {
    return parse(await this.contract.evaluateTransaction(fn, ...args));
  }
}

function connectTo(input, endpoint, tlsRootCert) {
  const client = new grpc.Client(endpoint, grpc.credentials.createSsl(Buffer.from(tlsRootCert)), {
    'grpc.ssl_target_name_override': input.hostAlias,
  });
  const gateway = connect({
    client,
    identity: { mspId: input.mspId, credentials: Buffer.from(input.certPem) },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(input.keyPem)),
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 30000 }),
    endorseOptions: () => ({ deadline: Date.now() + 60000 }),
    submitOptions: () => ({ deadline: Date.now() + 30000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 60000 }),
  });
  return { client, gateway };
}

async function main() {
  const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const { client, gateway } = connectTo(input, input.endpoint, input.tlsRootCert);
  const other = connectTo(input, input.otherEndpoint, input.otherTlsRootCert);
  const out = {};
  try {
    const network = gateway.getNetwork(input.channel);
    const contract = network.getContract(input.chaincode);
    const ledger = new Ledger(contract, other.gateway.getNetwork(input.channel));
    const id = input.assetId;
    out.heightBefore = await chainHeight(network, input.channel);

    // Live chaincode events: the listener starts at a block that does not
    // exist yet, before the transaction that will fill it is submitted.
    const live = await network.getChaincodeEvents(input.chaincode, { startBlock: BigInt(out.heightBefore) });
    const create = await contract.submitAsync('CreateAsset', { arguments: [id, 'blue', '5', 'Tom'] });
    const liveEvents = readUntil(live, 'live AssetCreated event',
      (evs) => evs.some((ev) => ev.transactionId === create.getTransactionId()));
    await ledger.settle('CreateAsset', [id, 'blue', '5', 'Tom'], create);
    out.liveEvents = (await liveEvents).map(eventJSON);

    out.readAsset = await ledger.evaluate('ReadAsset', id);
    await ledger.submit('UpdateAsset', id, 'blue', '5', 'Alice');
    out.readAfterTransfer = await ledger.evaluate('ReadAsset', id);
    try {
      await contract.evaluateTransaction('ReadAsset', 'no-such-asset');
      out.missingError = null;
    } catch (e) {
      out.missingError = String(e.details && e.details.length ? e.details[0].message : e.message);
    }
    out.historyAfterUpdate = await ledger.evaluate('GetAssetHistory', id);

    // Assets for the queries, ordered together.
    await ledger.submitAll([
      ['CreateAsset', 'a1', 'green', '10', 'Alice'],
      ['CreateAsset', 'a2', 'blue', '7', 'Bob'],
      ['CreateAsset', 'a3', 'green', '2', 'Carol'],
      ['CreateAsset', 'mvcc1', 'yellow', '1', 'Dan'],
      ['CreateAsset', 'pol1', 'purple', '4', 'Eve'],
      ['CreateAsset', 'del1', 'red', '9', 'Zed'],
    ]);

    // Two updates of one asset, both endorsed against the same committed
    // version before either is submitted: only one can be valid.
    const racers = [['mvcc1', 'yellow', '1', 'Xena'], ['mvcc1', 'yellow', '1', 'Yuri']];
    const endorsed = [];
    for (const args of racers) {
      endorsed.push(await contract.newProposal('UpdateAsset', { arguments: args }).endorse());
    }
    const commits = [];
    for (const tx of endorsed) {
      commits.push(await tx.submit());
    }
    for (let i = 0; i < racers.length; i++) {
      await ledger.settle('UpdateAsset', racers[i], commits[i]);
    }
    out.mvccAsset = await ledger.evaluate('ReadAsset', 'mvcc1');

    // Endorsed by Org1 alone, which the default MAJORITY policy of two
    // orgs rejects at validation.
    const polArgs = ['pol1', 'purple', '4', 'Mallory'];
    const polTx = await contract.newProposal('UpdateAsset', { arguments: polArgs, endorsingOrganizations: ['Org1MSP'] }).endorse();
    await ledger.settle('UpdateAsset', polArgs, await polTx.submit());
    out.policyAsset = await ledger.evaluate('ReadAsset', 'pol1');

    await ledger.submit('DeleteAsset', 'del1');
    out.deleteHistory = await ledger.evaluate('GetAssetHistory', 'del1');
    try {
      await contract.evaluateTransaction('ReadAsset', 'del1');
      out.deletedError = null;
    } catch (e) {
      out.deletedError = String(e.details && e.details.length ? e.details[0].message : e.message);
    }
    // The last transaction: every stream below reads up to its block.
    const marker = await ledger.submit('CreateAsset', 'z9', 'black', '1', 'End');

    out.richAlice = await ledger.evaluate('QueryAssets', JSON.stringify({ selector: { docType: 'asset', Owner: 'Alice' } }));
    out.richBig = await ledger.evaluate('QueryAssets', JSON.stringify({ selector: { docType: 'asset', Size: { $gte: 5 } } }));
    out.all = await ledger.evaluate('GetAllAssets');
    out.byColor = {};
    for (const color of ['blue', 'green', 'red', 'purple']) {
      out.byColor[color] = await ledger.evaluate('GetAssetsByColor', color);
    }
    out.rangePages = [];
    for (let bookmark = '', n = 0; n < 5; n++) {
      const page = await ledger.evaluate('GetAssetsByRangeWithPagination', '', '', '3', bookmark);
      out.rangePages.push(page);
      if (!page.bookmark) break;
      bookmark = page.bookmark;
    }
    out.queryPages = [];
    for (let bookmark = '', n = 0; n < 5; n++) {
      const page = await ledger.evaluate('QueryAssetsWithPagination',
        JSON.stringify({ selector: { docType: 'asset' } }), '4', bookmark);
      out.queryPages.push(page);
      // Paging as against CouchDB, whose bookmark is never empty.
      if (page.records.length === 0) break;
      bookmark = page.bookmark;
    }

    // Replays from the first block this app wrote.
    const first = ledger.txs[0].status.blockNumber;
    const last = marker.status.blockNumber;
    out.replayedEvents = (await readUntil(
      await network.getChaincodeEvents(input.chaincode, { startBlock: BigInt(first) }), 'replayed chaincode events',
      (evs) => evs.some((ev) => ev.transactionId === marker.txId),
    )).map(eventJSON);
    out.blocks = (await readUntil(await network.getBlockEvents({ startBlock: BigInt(first) }), 'block events',
      (bs) => Number(bs[bs.length - 1].getHeader().getNumber()) >= last)).map(blockJSON);
    out.filteredBlocks = (await readUntil(await network.getFilteredBlockEvents({ startBlock: BigInt(first) }),
      'filtered block events', (bs) => Number(bs[bs.length - 1].getNumber()) >= last)).map(filteredBlockJSON);

    out.txs = ledger.txs;
    out.heightAfter = await chainHeight(network, input.channel);
  } finally {
    for (const c of [{ client, gateway }, other]) {
      c.gateway.close();
      c.client.close();
    }
  }
  // Exiting explicitly: closed gRPC channels may keep timers alive.
  await new Promise((resolve) => process.stdout.write(JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? Number(v) : v)), resolve));
}

main().then(() => process.exit(0), (e) => {
  console.error(e && e.stack ? e.stack : e);
  if (e && e.details) console.error(JSON.stringify(e.details));
  process.exit(1);
});
