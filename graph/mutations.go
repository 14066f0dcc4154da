package graph

import (
	"context"
	"errors"

	"github.com/workablegw/gateway/graph/model"
)

// createCandidate implements Mutation.createCandidate.
func (r *Resolver) createCandidate(ctx context.Context, input model.CreateCandidateInput) (*model.CreateCandidatePayload, error) {
	return nil, errors.New("createCandidate: not implemented")
}

// updateCandidate implements Mutation.updateCandidate.
func (r *Resolver) updateCandidate(ctx context.Context, input model.UpdateCandidateInput) (*model.UpdateCandidatePayload, error) {
	return nil, errors.New("updateCandidate: not implemented")
}
