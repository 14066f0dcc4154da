// Package ratebudget keeps Workable's rate budget for every gateway replica
// that shares one token: a sliding-window log in Redis, updated atomically
// with the Redis server's clock, in front of which each process queues its
// own callers (priority, then rank, then arrival).
package ratebudget
