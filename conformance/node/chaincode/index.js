'use strict';

// Modules resolve from ../node_modules (fabric-shim, fabric-contract-api 2.5.8).
const { AssetContract } = require('./lib/asset');

module.exports.AssetContract = AssetContract;
module.exports.contracts = [AssetContract];
