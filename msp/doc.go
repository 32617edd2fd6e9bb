// Package msp implements Fabric's X.509 membership service provider: it turns
// a channel's msp.MSPConfig into a validator for the identities that sign
// proposals, transactions and config updates, with the same acceptance rules
// a Fabric v2.5/v3 peer applies (MSP version 1.4.3+ semantics).
package msp
