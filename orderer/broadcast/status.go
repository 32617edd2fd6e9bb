package broadcast

import (
	"context"
	"errors"
	"fmt"

	"weft/wire/common"
	"weft/wire/orderer"
)

// ErrUnavailable marks an Order/Configure failure the client should retry
// later (no leader, chain halted, config changed underneath): Support
// implementations wrap their errors with it to get SERVICE_UNAVAILABLE
// instead of INTERNAL_SERVER_ERROR.
var ErrUnavailable = errors.New("service unavailable")

// rejection is a non-SUCCESS outcome with the reason given to the client.
type rejection struct {
	status common.Status
	info   string
}

func reject(status common.Status, format string, args ...any) *rejection {
	return &rejection{status: status, info: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *rejection {
	return reject(common.Status_BAD_REQUEST, format, args...)
}

func forbidden(format string, args ...any) *rejection {
	return reject(common.Status_FORBIDDEN, format, args...)
}

func internal(format string, args ...any) *rejection {
	return reject(common.Status_INTERNAL_SERVER_ERROR, format, args...)
}

func (r *rejection) response() *orderer.BroadcastResponse {
	return &orderer.BroadcastResponse{Status: r.status, Info: r.info}
}

// orderingFailure classifies an error of Support.Order or Configure.
func orderingFailure(what string, err error) *rejection {
	if retryable(err) {
		return reject(common.Status_SERVICE_UNAVAILABLE, "%s: %v", what, err)
	}
	return internal("%s: %v", what, err)
}

func retryable(err error) bool {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}
