#pragma once
// The hot path: one query's bytes in, one response's bytes out (SPEC §7).
// Takes no lock, allocates nothing, throws nothing; all scratch lives in the
// caller's WorkerState.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dnsd/answer/rotation.hpp"
#include "dnsd/answer/select.hpp"
#include "dnsd/answer/sticky_cache.hpp"
#include "dnsd/answer/view.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/guard/cookie.hpp"
#include "dnsd/guard/rrl.hpp"
#include "dnsd/wire/query.hpp"

namespace dnsd::answer {

enum class Transport : uint8_t { udp, tcp };

// CNAME links followed in one answer (SPEC §7); past them the resolver takes over.
inline constexpr size_t max_cname_links = 8;

// Per-worker mutable state; one per thread, never shared.
struct WorkerState {
    Rotations rotations;           // each rotating set's counter, carried across views by prepare()
    uint64_t rotation_offset = 0;  // added to every set's counter: 0 in a server, pinned by tests
    uint64_t rng_state = 0x9e3779b97f4a7c15ull;  // xorshift state for weighted
    std::vector<uint32_t> members;  // selection output, sized by prepare()
    std::vector<uint64_t> scratch;  // selection scratch, sized by prepare()
    StickyCache sticky;             // rankings of wide sticky tiers, cleared by prepare() for a new snapshot
    // Shared by every worker and read-only: null answers no cookies (explain).
    const guard::CookieSecrets* cookies = nullptr;
    // Shared by every worker, written with relaxed atomics; null: no RRL.
    guard::Rrl* rrl = nullptr;

    // Adopts a view: sizes the scratch for its largest pool and makes room for
    // its rotating sets. Only what the view changed is redone: a view with the
    // snapshot already adopted (health, overrides) costs nothing, and every
    // set a new snapshot keeps keeps its counter. Called when the worker
    // adopts a new view, never per query.
    void prepare(const View& view);

private:
    std::shared_ptr<const zone::Snapshot> snapshot_;  // the one rotations are laid out for
};

struct Request {
    std::span<const uint8_t> packet;
    core::Address source;
    Transport transport = Transport::udp;
    // Seconds since the Unix epoch: cookie timestamps, RRL's second, and until
    // when the members handed out may be cached (drain); 0: none of these (explain).
    uint32_t now_s = 0;
};

// The pool whose members answered the question (the answer section).
struct PoolAnswer {
    const zone::Zone* zone = nullptr;  // in the view's snapshot; null: no pool answered
    int32_t pool = -1;                 // index into zone->pools
    int32_t region = -1;               // Selection::region
    Tier tier = Tier::primary;
};

// What the worker needs for its counters and logs besides the bytes.
struct Outcome {
    size_t size = 0;           // response bytes written to `out`; 0: drop the packet
    uint16_t qtype = 0;
    uint8_t rcode = 0;
    bool truncated = false;
    guard::Verdict rrl = guard::Verdict::pass;  // drop: size is 0; slip: an empty answer with TC
    PoolAnswer pool_answer;    // only in a complete (untruncated) answer
};

// `out` must hold at least 65535 bytes; the response is limited to what the
// transport allows (UDP: the client's EDNS payload or 512; TCP: 65535).
// With state.cookies, a query's client cookie gets a server cookie back
// (RFC 7873, RFC 9018); with state.rrl, UDP answers are rate limited
// (SPEC §10) unless the query came with a valid server cookie.
Outcome respond(const Request& request, const View& view, WorkerState& state,
                std::span<uint8_t> out);

class Trace;
// The same path for a query already parsed (a well-formed one, as
// wire::parse_query leaves it), with every decision recorded in `trace`:
// `dnsd explain`. Allocates, for the trace.
Outcome respond(const wire::Query& query, const core::Address& source, Transport transport, const View& view,
                WorkerState& state, std::span<uint8_t> out, Trace& trace);

}  // namespace dnsd::answer
