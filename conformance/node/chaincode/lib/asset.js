'use strict';

const { Contract } = require('fabric-contract-api');

const colorIndex = 'color~id';

// Field order is fixed so that every endorser writes identical bytes.
function encode(asset) {
    return Buffer.from(JSON.stringify({
        docType: 'asset', ID: asset.ID, Color: asset.Color, Size: Number(asset.Size), Owner: asset.Owner,
    }));
}

async function collect(iterator) {
    const out = [];
    for (let res = await iterator.next(); !res.done; res = await iterator.next()) {
        out.push({ Key: res.value.key, Record: JSON.parse(Buffer.from(res.value.value).toString('utf8')) });
    }
    await iterator.close();
    return out;
}

class AssetContract extends Contract {
    constructor() {
        super('asset');
    }

    async CreateAsset(ctx, id, color, size, owner) {
        if (await this.AssetExists(ctx, id) === 'true') {
            throw new Error(`asset ${id} already exists`);
        }
        const asset = { ID: id, Color: color, Size: size, Owner: owner };
        await ctx.stub.putState(id, encode(asset));
        await ctx.stub.putState(ctx.stub.createCompositeKey(colorIndex, [color, id]), Buffer.from([0]));
        ctx.stub.setEvent('AssetCreated', encode(asset));
        return encode(asset).toString();
    }

    async AssetExists(ctx, id) {
        const data = await ctx.stub.getState(id);
        return String(data !== undefined && data.length > 0);
    }

    async ReadAsset(ctx, id) {
        const data = await ctx.stub.getState(id);
        if (!data || data.length === 0) {
            throw new Error(`asset ${id} does not exist`);
        }
        return Buffer.from(data).toString('utf8');
    }

    async UpdateAsset(ctx, id, color, size, owner) {
        const old = JSON.parse(await this.ReadAsset(ctx, id));
        if (old.Color !== color) {
            await ctx.stub.deleteState(ctx.stub.createCompositeKey(colorIndex, [old.Color, id]));
            await ctx.stub.putState(ctx.stub.createCompositeKey(colorIndex, [color, id]), Buffer.from([0]));
        }
        const asset = { ID: id, Color: color, Size: size, Owner: owner };
        await ctx.stub.putState(id, encode(asset));
        ctx.stub.setEvent('AssetUpdated', encode(asset));
        return encode(asset).toString();
    }

    async DeleteAsset(ctx, id) {
        const old = JSON.parse(await this.ReadAsset(ctx, id));
        await ctx.stub.deleteState(id);
        await ctx.stub.deleteState(ctx.stub.createCompositeKey(colorIndex, [old.Color, id]));
        return 'deleted';
    }

    async GetAllAssets(ctx) {
        return JSON.stringify(await collect(await ctx.stub.getStateByRange('', '')));
    }

    // Composite-key query: the index keys name the assets, which are then read.
    async GetAssetsByColor(ctx, color) {
        const iterator = await ctx.stub.getStateByPartialCompositeKey(colorIndex, [color]);
        const ids = [];
        for (let res = await iterator.next(); !res.done; res = await iterator.next()) {
            const { attributes } = ctx.stub.splitCompositeKey(res.value.key);
            ids.push(attributes[1]);
        }
        await iterator.close();
        const out = [];
        for (const id of ids) {
            out.push(JSON.parse(await this.ReadAsset(ctx, id)));
        }
        return JSON.stringify(out);
    }

    async QueryAssets(ctx, query) {
        return JSON.stringify(await collect(await ctx.stub.getQueryResult(query)));
    }

    async QueryAssetsWithPagination(ctx, query, pageSize, bookmark) {
        const { iterator, metadata } = await ctx.stub.getQueryResultWithPagination(query, Number(pageSize), bookmark);
        const records = await collect(iterator);
        return JSON.stringify({ records, fetchedRecordsCount: metadata.fetchedRecordsCount, bookmark: metadata.bookmark });
    }

    async GetAssetsByRangeWithPagination(ctx, startKey, endKey, pageSize, bookmark) {
        const { iterator, metadata } = await ctx.stub.getStateByRangeWithPagination(startKey, endKey, Number(pageSize), bookmark);
        const records = await collect(iterator);
        return JSON.stringify({ records, fetchedRecordsCount: metadata.fetchedRecordsCount, bookmark: metadata.bookmark });
    }

    async GetAssetHistory(ctx, id) {
        const iterator = await ctx.stub.getHistoryForKey(id);
        const out = [];
        for (let res = await iterator.next(); !res.done; res = await iterator.next()) {
            const m = res.value;
            out.push({
                txId: m.txId,
                isDelete: m.isDelete,
                seconds: Number(m.timestamp.seconds),
                value: m.isDelete ? null : JSON.parse(Buffer.from(m.value).toString('utf8')),
            });
        }
        await iterator.close();
        return JSON.stringify(out);
    }

    async SetAssetPolicy(ctx, id, policy) {
        await ctx.stub.setStateValidationParameter(id, Buffer.from(policy));
        return 'ok';
    }

    async GetAssetPolicy(ctx, id) {
        const p = await ctx.stub.getStateValidationParameter(id);
        return p ? Buffer.from(p).toString('utf8') : '';
    }

    async ReadPrivate(ctx, collection, key) {
        const data = await ctx.stub.getPrivateData(collection, key);
        return Buffer.from(data).toString('utf8');
    }

    // Calls another chaincode (by name, optionally on a channel) and reports
    // what came back. argsJSON is a JSON array: contract functions take a
    // fixed number of parameters.
    async CallOther(ctx, name, channel, argsJSON) {
        const resp = await ctx.stub.invokeChaincode(name, JSON.parse(argsJSON), channel);
        return JSON.stringify({ status: resp.status, message: resp.message, payload: Buffer.from(resp.payload).toString('utf8') });
    }

    async TxInfo(ctx) {
        return JSON.stringify({
            txId: ctx.stub.getTxID(),
            channel: ctx.stub.getChannelID(),
            mspid: ctx.clientIdentity.getMSPID(),
            seconds: Number(ctx.stub.getTxTimestamp().seconds),
        });
    }
}

module.exports = { AssetContract };
