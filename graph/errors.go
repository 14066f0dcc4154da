package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/cost"
	"github.com/workablegw/gateway/redisconn"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// The extensions.code values of the gateway's own errors. gqlgen's parse,
// validation and complexity errors keep their own codes (GRAPHQL_PARSE_FAILED,
// GRAPHQL_VALIDATION_FAILED, COMPLEXITY_LIMIT_EXCEEDED, …).
const (
	CodeBadUserInput        = "BAD_USER_INPUT"
	CodeWorkableAuthFailed  = "WORKABLE_AUTH_FAILED"
	CodeRateLimited         = cost.CodeRateLimited
	CodeUpstreamUnavailable = "UPSTREAM_UNAVAILABLE"
	CodeNotFound            = "NOT_FOUND"
	CodeResultTooLarge      = "RESULT_TOO_LARGE"
	CodeInternal            = "INTERNAL"
	// CodeStoreUnavailable: the gateway's own store (Redis) did not answer
	// where the operation cannot go on without it (an idempotency key);
	// nothing was sent to Workable, and a retry after
	// extensions.retryAfter seconds is safe.
	CodeStoreUnavailable = "STORE_UNAVAILABLE"
	// CodeBackwardPagingLimit: a last/before page that the gateway could
	// not find within its budget of Workable calls (see upstream.LastPage).
	CodeBackwardPagingLimit = "BACKWARD_PAGING_LIMIT"
)

// codedError is an error shown to the caller as is, with its own code.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

// inputError is a problem with the arguments of a query; its message is
// shown to the caller as is.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// badInput returns an error that is presented with code BAD_USER_INPUT.
func badInput(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

// errJobGone is returned for a non-null field of a job that Workable no
// longer has (a candidate can reference a deleted job).
var errJobGone = errors.New("the job no longer exists in Workable")

// classify maps an error to its extensions.code and the message shown to the
// caller. Messages of upstream failures are fixed texts, so no detail of the
// Workable request (and never its token) can leak into a response.
func classify(err error) (code, msg string) {
	var in *inputError
	var er *workable.ErrorResponse
	var badID *workable.InvalidIDError
	var coded *codedError
	switch {
	case errors.As(err, &in):
		return CodeBadUserInput, in.msg
	case errors.As(err, &coded):
		return coded.code, coded.msg
	case errors.As(err, &badID):
		// Any id or shortcode that fails the one rule (workable.ValidID),
		// wherever it was checked.
		return CodeBadUserInput, badID.Reason()
	case errors.Is(err, upstream.ErrNotHexIDs):
		return CodeBadUserInput, upstream.ErrNotHexIDs.Error()
	case errors.Is(err, upstream.ErrBackwardPagingLimit):
		return CodeBackwardPagingLimit, upstream.ErrBackwardPagingLimit.Error()
	case errors.Is(err, errActivityLogTooLong):
		return CodeResultTooLarge, errActivityLogTooLong.Error()
	case errors.Is(err, workable.ErrUnauthorized):
		return CodeWorkableAuthFailed, "Workable rejected the gateway's API token"
	case errors.Is(err, workable.ErrRateLimited):
		return CodeRateLimited, "Workable's rate budget cannot serve this before the request's deadline; " +
			"retry in extensions.retryAfter seconds (what was fetched is cached)"
	case errors.Is(err, redisconn.ErrUnavailable):
		return CodeStoreUnavailable, "the gateway's store (Redis) is unreachable, so nothing was sent to Workable; " +
			"retry in extensions.retryAfter seconds"
	case errors.Is(err, workable.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled):
		return CodeUpstreamUnavailable, "Workable is unavailable; retry later"
	case errors.Is(err, errJobGone):
		return CodeNotFound, errJobGone.Error()
	case errors.Is(err, workable.ErrNotFound):
		return CodeNotFound, "Workable has no such record"
	case errors.Is(err, workable.ErrValidation):
		if errors.As(err, &er) && er.Message != "" {
			return CodeBadUserInput, "Workable rejected the request: " + er.Message
		}
		return CodeBadUserInput, "Workable rejected the request"
	default:
		return CodeInternal, "internal error"
	}
}

// storeRetryAfter is the extensions.retryAfter of STORE_UNAVAILABLE, in
// seconds: the cool-down after which the gateway tries Redis again.
const storeRetryAfter = int((redisconn.DefaultCoolDown + time.Second - 1) / time.Second)

// errorPresenter returns the handler's error presenter: it keeps the codes
// gqlgen (or a resolver) already set and maps every other error to a code
// with classify, logging the ones that are not the caller's fault.
func errorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if _, ok := gqlErr.Extensions["code"]; ok {
			return gqlErr
		}
		code, msg := classify(err)
		if code != CodeBadUserInput && code != CodeBackwardPagingLimit {
			// The workable package guarantees its error texts carry no token.
			attrs := []slog.Attr{slog.String("code", code), slog.String("path", gqlErr.Path.String()), slog.Any("err", err)}
			// Workable's own id of a failed call, to quote to Workable; the
			// line's request_id stays the gateway's.
			if er := (*workable.ErrorResponse)(nil); errors.As(err, &er) && er.RequestID != "" {
				attrs = append(attrs, slog.String("workable_request_id", er.RequestID))
			}
			logger.LogAttrs(ctx, slog.LevelWarn, "graphql error", attrs...)
		}
		out := *gqlErr
		out.Message = msg
		out.Extensions = map[string]any{"code": code}
		for k, v := range gqlErr.Extensions {
			out.Extensions[k] = v
		}
		out.Extensions["code"] = code
		if code == CodeStoreUnavailable {
			out.Extensions["retryAfter"] = storeRetryAfter
		}
		return &out
	}
}

// recoverFunc returns the handler's panic handler: it logs the panic and
// answers INTERNAL without any detail.
func recoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		path := ""
		if fc := graphql.GetFieldContext(ctx); fc != nil {
			path = fc.Path().String()
		}
		logger.LogAttrs(ctx, slog.LevelError, "graphql resolver panic",
			slog.String("path", path), slog.String("panic", fmt.Sprint(v)))
		return &gqlerror.Error{
			Path:       graphql.GetPath(ctx),
			Message:    "internal error",
			Extensions: map[string]any{"code": CodeInternal},
		}
	}
}
