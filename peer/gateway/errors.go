package gateway

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	gp "weft/wire/gateway"
	"weft/wire/peer"
)

// responseStatus classifies a ProcessProposal outcome as Fabric's gateway
// does: a transport error means the peer is unavailable (retry elsewhere);
// an error with a response is a rejected proposal (client's fault); status
// 500 without payload is a peer-side failure (retry elsewhere); any other
// status outside 200..399 comes from the chaincode.
func responseStatus(pr *peer.ProposalResponse, err error) (codes.Code, string, bool) {
	if err != nil {
		if pr == nil {
			return codes.Unavailable, err.Error(), true
		}
		return codes.FailedPrecondition, err.Error(), false
	}
	if pr == nil || pr.Response == nil {
		return codes.Unavailable, "endorser returned no response", true
	}
	if s := pr.Response.Status; s < 200 || s >= 400 {
		if pr.Payload == nil && s == 500 {
			return codes.Aborted, pr.Response.Message, true
		}
		return codes.Unknown, fmt.Sprintf("chaincode response %d, %s", s, pr.Response.Message), false
	}
	return codes.OK, "", false
}

// rpcError is a gRPC status error carrying ErrorDetail details, which the
// fabric-gateway client decodes from grpc-status-details-bin.
func rpcError(code codes.Code, msg string, details ...*gp.ErrorDetail) error {
	st := status.New(code, msg)
	if len(details) == 0 {
		return st.Err()
	}
	ds := make([]protoadapt.MessageV1, 0, len(details))
	for _, d := range details {
		ds = append(ds, protoadapt.MessageV1Of(d))
	}
	if withDetails, err := st.WithDetails(ds...); err == nil {
		return withDetails.Err()
	}
	return st.Err()
}

func detail(t target, msg string) *gp.ErrorDetail {
	return &gp.ErrorDetail{Address: t.address, MspId: t.mspID, Message: msg}
}
