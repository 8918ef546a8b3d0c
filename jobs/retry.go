package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// CodeAttemptsExhausted is the error code of an operation that used up
// Config.MaxAttempts claims without finishing.
const CodeAttemptsExhausted = kafkaplane.CodeAttemptsExhausted

// The retry policy has two levels, and every error meets exactly one rule:
//
//   - Within one claim, a failing step is retried StepRetries times with a
//     short doubling pause (withRetries); when the retries are used up, or
//     at once for a permanent error, the operation fails.
//   - An attempt that ends without finishing the operation for any other
//     reason (the store failed, the outcome could not be recorded) ends
//     the claim. A permanent error then fails the operation at once; any
//     other error releases the lease with a next-attempt time of
//     attemptBackoff(Attempts), and the claim after MaxAttempts fails the
//     operation without running it.

// permanentError marks an error that no retry can cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as permanent: the operation that meets it fails at
// once instead of being retried. A Runtime returns it for a request that
// cannot succeed however often it is made (a version it does not have).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// permanent reports whether err cannot be cured by retrying: it is marked
// Permanent, it is a refusal of the store with a domain code (anything but
// a lost compare-and-set, which lostRace handles), or stored data does not
// decode.
func permanent(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) {
		return true
	}
	switch code := kafkaplane.ErrorCode(err); code {
	case "", kafkaplane.CodeConflict:
	default:
		return true
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

// attemptBackoff is the wait after attempt n (1 for the first claim) ended
// unfinished: AttemptBackoff doubled n-1 times, at most AttemptBackoffMax.
func (c *Config) attemptBackoff(n int) time.Duration {
	d := c.AttemptBackoff
	for i := 1; i < n && d < c.AttemptBackoffMax; i++ {
		d *= 2
	}
	return min(d, c.AttemptBackoffMax)
}

// inProgressStep returns the index of the step an attempt was in, or -1.
func inProgressStep(op *kafkaplane.Operation) int {
	if i := op.NextStep(); i < len(op.Steps) && op.Steps[i].Status == kafkaplane.StepInProgress {
		return i
	}
	return -1
}

// giveUp fails the operation after its attempts ran out; cause is the
// error that ended the last one, nil when the claim comes after the last
// attempt (its process died during it).
func (x *execution) giveUp(ctx context.Context, cause error) error {
	n := x.op.Attempts
	if cause == nil {
		cause = kafkaplane.Errorf(CodeAttemptsExhausted, "The operation did not finish in %d attempts.", n-1)
	} else {
		cause = kafkaplane.Errorf(CodeAttemptsExhausted, "The operation did not finish in %d attempts; the last one failed: %s", n, errorText(cause))
	}
	return x.fail(ctx, inProgressStep(x.op), cause)
}

// errorText is the message of err: a domain error's message without its
// code, any other error's text.
func errorText(err error) string {
	if m := kafkaplane.ErrorMessage(err); m != "" {
		return m
	}
	return err.Error()
}

// retryLater releases the lease of an attempt that ended with err and
// sets when the operation may be claimed again. It is best effort like
// release: if the write fails, the lease expires instead.
func (x *execution) retryLater(ctx context.Context, err error) {
	cfg := &x.w.cfg
	wait := cfg.attemptBackoff(x.op.Attempts)
	op := cloneOperation(x.stored)
	now := cfg.Now()
	op.LeaseOwner, op.LeaseUntil, op.UpdatedAt = "", time.Time{}, now
	op.NextAttemptAt = now.Add(wait)
	x.log.Error("operation attempt failed; retrying later", "attempt", op.Attempts, "max_attempts", cfg.MaxAttempts, "retry_in", wait, "err", err)
	wctx, cancel := detached(ctx)
	defer cancel()
	if werr := cfg.Operations.UpdateOperation(wctx, op); werr != nil && !lostRace(werr) {
		x.log.Warn("release lease", "err", werr)
	}
}
