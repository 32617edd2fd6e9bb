// Package membership lets peers learn which other peers serve a channel:
// where they can be reached, their organisation and how far their ledger
// is. Fabric peers learn this through gossip; weft peers use a small gRPC
// service of their own (weft.membership.Membership) on the peer's TLS
// listener instead, since the Gateway only needs the member list.
//
// Every statement a peer makes is signed by its identity, one per channel,
// and is accepted only when that identity is a valid peer of an
// organisation of the channel, the signature verifies and the statement is
// newer than the last one accepted from that peer. A caller's own
// statements must moreover come over a TLS session whose client
// certificate was issued by the same organisation's TLS CA. Entries expire
// when no newer statement arrived within the expiration time.
package membership
