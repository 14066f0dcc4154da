// Package upstream reads Workable through the cache: the read-through
// engine under every GraphQL field, one Economy per Workable credential.
// Every Workable read of a query goes
//
//	dataloader (per request, dedupes keys) → batch → cache GetMany →
//	singleflight (per process, one fetch per key in flight) → Workable →
//	cache SetMany
//
// and falls back to an expired copy when Workable cannot answer.
//
// Writes invalidate with generation tokens. A generation is a random token
// kept in the cache (kind cache.KindGeneration); the entries it guards carry
// the token they were made under, and count only while it is current. A
// candidate write replaces the candidate lists generation (every cached
// candidate list page, Query.candidates and Job.candidates alike, and the
// list fields of every candidate) and that candidate's own generation (its
// detail and its activities), so exactly what the write can change stops
// counting, on every replica sharing the cache, without scanning keys. A
// token is read in the same GetMany as the entries it guards, so it costs no
// extra round trip; an entry stored by a read that started before a write
// carries the old token and never counts, so a slow read cannot put back
// data older than the write.
package upstream
