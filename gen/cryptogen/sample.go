package cryptogen

// SampleConfig is printed by `weft cryptogen showtemplate`: a small network
// with one orderer organization running three Raft orderers and two peer
// organizations, every option shown once.
const SampleConfig = `# crypto-config.yaml: what "weft cryptogen generate" should create.
# Names follow Fabric's cryptogen, so the output tree is interchangeable.

OrdererOrgs:
  - Name: Orderer
    Domain: example.com
    # Tell roles apart by OU (client, peer, admin, orderer) instead of
    # listing admin certificates in admincerts/.
    EnableNodeOUs: true
    # Each entry is one host. The certificate CN defaults to
    # "{{.Hostname}}.{{.Domain}}"; the TLS certificate always lists the CN,
    # the bare host name, localhost and 127.0.0.1 as SANs.
    Specs:
      - Hostname: orderer0
      - Hostname: orderer1
      - Hostname: orderer2
        SANS:
          - "orderer2.internal.{{.Domain}}"

PeerOrgs:
  - Name: Org1
    Domain: org1.example.com
    EnableNodeOUs: true
    # Optional: the CA subject. Hostname "ca" gives CN ca.org1.example.com;
    # the TLS CA takes the same subject with CN tlsca.org1.example.com.
    CA:
      Hostname: ca
      Country: US
      Province: California
      Locality: San Francisco
      # OrganizationalUnit: Blockchain
    # Hosts peer0, peer1, ... built from a template. Specs and Template can
    # be combined; host names must not repeat.
    Template:
      Count: 2
      # Start: 0
      # Hostname: "{{.Prefix}}{{.Index}}"
      # SANS:
      #   - "{{.Hostname}}.alt.{{.Domain}}"
    # Users in addition to Admin@<Domain>: User1@<Domain>, User2@<Domain>, ...
    Users:
      Count: 1

  - Name: Org2
    Domain: org2.example.com
    EnableNodeOUs: true
    Template:
      Count: 2
    Users:
      Count: 1
`
