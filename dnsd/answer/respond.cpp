#include "dnsd/answer/respond.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "dnsd/answer/lookup.hpp"
#include "dnsd/answer/pool.hpp"
#include "dnsd/answer/select.hpp"
#include "dnsd/answer/trace.hpp"
#include "dnsd/wire/query.hpp"
#include "dnsd/wire/response.hpp"
#include "dnsd/zone/name.hpp"

namespace dnsd::answer {

namespace {

namespace rrtype = zone::rrtype;
namespace rcode = wire::rcode;
using wire::Section;

constexpr size_t tcp_limit = 65535;
constexpr size_t udp_minimum = 512;

// A name taken from RDATA, lower-cased for lookup.
// Only [0, size) is ever written or read, so the bytes are left uninitialised:
// a query holds nine of these, and zeroing 2 KiB each time is waste.
struct Target {
    std::array<char, wire::max_name_size> bytes;
    size_t size = 0;
    std::string_view view() const { return {bytes.data(), size}; }
};

// The name at `offset` in `rdata`, lower-cased; false if there is none.
bool target_at(const zone::Rdata& rdata, size_t offset, Target& target) {
    if (offset >= rdata.wire.size()) return false;
    const std::span<const uint8_t> bytes{rdata.wire.data() + offset, rdata.wire.size() - offset};
    const size_t size = wire::name_size(bytes);
    // Label lengths are at most 63, below 'A', so lower-casing leaves them be.
    for (size_t i = 0; i < size; ++i) target.bytes[i] = static_cast<char>(wire::to_lower(bytes[i]));
    target.size = size;
    return size != 0;
}

// Where the name sits in the RDATA of the types whose targets get addresses
// in the additional section (RFC 1035 §3.3.9, §3.3.11; RFC 2782).
size_t target_offset(uint16_t type) {
    switch (type) {
    case rrtype::MX: return 2;
    case rrtype::SRV: return 6;
    default: return 0;  // NS, CNAME
    }
}

bool wants_additional(uint16_t type) {
    return type == rrtype::NS || type == rrtype::MX || type == rrtype::SRV;
}

// The server's tracer: every hook does nothing and inlines away.
struct NoTrace {
    void zone_of(std::string_view, const zone::Zone*, bool) {}
    void looked_up(std::string_view, const zone::Node*, Trace::Step::Kind) {}
    void cname(std::string_view, std::string_view, Trace::Step::Kind) {}
    void any(std::string_view, uint16_t) {}
    void nodata(std::string_view, uint16_t) {}
    void rrset(Section, std::string_view, const zone::RRset&, uint32_t, uint64_t) {}
    void pool(Section, std::string_view, const PoolQuestion&, const PoolChoice&, std::span<const uint32_t>) {}
    void finish(uint16_t, bool, bool, uint8_t) {}
};

using StepKind = Trace::Step::Kind;

uint64_t xorshift64(uint64_t& state) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

// Fills the answer, authority and additional sections for one question.
// Records that must be there but do not fit set overflow(); the caller then
// truncates. Additional records that do not fit are left out (RFC 2181 §9),
// except referral glue (RFC 9471). Every decision is reported to the tracer.
template <class Tracer>
class Answerer {
public:
    Answerer(const View& view, WorkerState& state, const wire::Query& query, const Client& client, uint32_t now_s,
             wire::ResponseWriter& writer, Tracer& tracer)
        : view_(view), state_(state), query_(query), client_(client), now_s_(now_s), writer_(writer), trace_(tracer) {}

    uint16_t answer();
    bool authoritative() const { return authoritative_; }
    bool overflow() const { return overflow_; }
    bool failed() const { return failed_; }
    uint8_t ecs_scope_prefix() const { return ecs_scope_prefix_; }
    // The name RRL counts the answer under: the question's, the wildcard's
    // that synthesised it, or the zone's for NXDOMAIN.
    std::string_view rrl_name() const { return rrl_name_; }
    const PoolAnswer& pool_answer() const { return pool_answer_; }

private:
    const zone::Zone* zone_for(std::string_view name);
    void answer_node(const zone::Zone& zone, const zone::Node& node, std::string_view owner);
    void answer_any(const zone::Zone& zone, const zone::Node& node, std::string_view owner);
    void negative(const zone::Zone& zone);
    void referral(const zone::Zone& zone, const zone::Node& cut);
    void additional_targets(const zone::Zone& zone, const zone::RRset& rrset);
    void addresses(const zone::Zone& zone, const zone::Node& node, std::string_view owner);
    bool write_rrset(Section section, std::string_view owner, const zone::RRset& rrset, uint32_t ttl);
    size_t write_pool(Section section, const zone::Zone& zone, const zone::Node& node, std::string_view owner,
                      core::Family family);
    bool fail_rrset(Section section, const wire::ResponseWriter::Mark& mark);
    // Whether `owner` is the question's name as answer() passes it on, which
    // the writer points to without a search. A CNAME target that merely
    // spells the same name is not (the chain stops there anyway).
    bool is_question(std::string_view owner) const { return owner.data() == query_.qname.lower_view().data(); }
    bool already_named(const zone::RRset& rrset, size_t before, std::string_view name) const;

    const View& view_;
    WorkerState& state_;
    const wire::Query& query_;
    const Client& client_;
    // The query's time in Unix seconds, for the drain's record of how long
    // resolvers may cache each member handed out; 0 records nothing (explain).
    const uint32_t now_s_;
    wire::ResponseWriter& writer_;
    Tracer& trace_;
    bool authoritative_ = false;
    bool overflow_ = false;
    bool failed_ = false;
    bool glue_required_ = false;
    uint8_t ecs_scope_prefix_ = 0;
    std::string_view rrl_name_;
    PoolAnswer pool_answer_;
};

template <class Tracer>
uint16_t Answerer<Tracer>::answer() {
    std::string_view name = query_.qname.lower_view();
    rrl_name_ = name;
    const zone::Zone* zone = zone_for(name);
    if (zone == nullptr) return rcode::refused;
    authoritative_ = true;

    // CNAME targets, to stop at a loop rather than at the link limit; the
    // last is the one not followed.
    std::array<Target, max_cname_links + 1> chain;
    for (size_t links = 0;; ++links) {
        const Lookup found = lookup(*zone, name, query_.qtype);
        switch (found.kind) {
        case Lookup::Kind::nxdomain:
            trace_.looked_up(name, nullptr, StepKind::nxdomain);
            rrl_name_ = zone->apex;
            negative(*zone);
            return rcode::nxdomain;
        case Lookup::Kind::delegation:
            trace_.looked_up(name, found.node, StepKind::delegation);
            // AA speaks for the question's name: a chain that leaves our
            // authority through a cut keeps it.
            if (links == 0) authoritative_ = false;
            referral(*zone, *found.node);
            return rcode::noerror;
        case Lookup::Kind::exact:
            trace_.looked_up(name, found.node, StepKind::exact);
            break;
        case Lookup::Kind::wildcard:
            trace_.looked_up(name, found.node, StepKind::wildcard);
            if (links == 0) rrl_name_ = found.node->name;
            break;
        }
        // Records are owned by `name` even when a wildcard synthesises them
        // (RFC 4592 §3.3.1).
        const zone::Node& node = *found.node;
        const zone::RRset* cname = node.find(rrtype::CNAME);
        if (cname == nullptr || cname->rdatas.empty() || query_.qtype == rrtype::CNAME ||
            query_.qtype == rrtype::ANY) {
            answer_node(*zone, node, name);
            return rcode::noerror;
        }
        Target& target = chain[links];
        target_at(cname->rdatas.front(), 0, target);
        // Past the last link the resolver takes over from the previous target.
        if (links == max_cname_links) {
            trace_.cname(name, target.view(), StepKind::cname_limit);
            return rcode::noerror;
        }
        if (!write_rrset(Section::answer, name, *cname, cname->ttl) || target.size == 0) return rcode::noerror;
        const bool loop = target.view() == query_.qname.lower_view() ||
                          std::any_of(chain.begin(), chain.begin() + static_cast<ptrdiff_t>(links),
                                      [&](const Target& seen) { return seen.view() == target.view(); });
        trace_.cname(name, target.view(), loop ? StepKind::cname_loop : StepKind::cname);
        if (loop) return rcode::noerror;
        name = target.view();
        zone = zone_for(name);
        if (zone == nullptr) return rcode::noerror;  // the resolver follows it elsewhere
    }
}

template <class Tracer>
const zone::Zone* Answerer<Tracer>::zone_for(std::string_view name) {
    const zone::Snapshot& snapshot = *view_.snapshot;
    const zone::Zone* zone = snapshot.find_zone(name);
    // DS lives on the parent side of a cut: when dnsd serves the parent too,
    // the parent answers DS at the child's apex (RFC 4035 §3.1.4.1).
    if (zone != nullptr && query_.qtype == rrtype::DS && name == zone->apex && name.size() > 1) {
        if (const zone::Zone* parent = snapshot.find_zone(wire::parent(name))) {
            trace_.zone_of(name, parent, true);
            return parent;
        }
    }
    trace_.zone_of(name, zone, false);
    return zone;
}

template <class Tracer>
void Answerer<Tracer>::answer_node(const zone::Zone& zone, const zone::Node& node, std::string_view owner) {
    const uint16_t qtype = query_.qtype;
    if (qtype == rrtype::ANY) return answer_any(zone, node, owner);
    if ((qtype == rrtype::A || qtype == rrtype::AAAA) && node.pool >= 0) {
        const auto family = qtype == rrtype::A ? core::Family::v4 : core::Family::v6;
        if (write_pool(Section::answer, zone, node, owner, family) == 0) {
            trace_.nodata(owner, qtype);
            negative(zone);
        }
        return;
    }
    const zone::RRset* rrset = node.find(qtype);
    if (rrset == nullptr || rrset->rdatas.empty()) {
        trace_.nodata(owner, qtype);
        return negative(zone);
    }
    if (write_rrset(Section::answer, owner, *rrset, rrset->ttl) && wants_additional(qtype))
        additional_targets(zone, *rrset);
}

// RFC 8482 §4.1: one RRset rather than all of them. A pool's addresses come
// first (IPv4, then IPv6), else the node's first RRset in type order.
template <class Tracer>
void Answerer<Tracer>::answer_any(const zone::Zone& zone, const zone::Node& node, std::string_view owner) {
    if (node.pool >= 0 && (write_pool(Section::answer, zone, node, owner, core::Family::v4) > 0 ||
                           write_pool(Section::answer, zone, node, owner, core::Family::v6) > 0))
        return;
    const auto rrset = std::find_if(node.rrsets.begin(), node.rrsets.end(),
                                    [](const zone::RRset& r) { return !r.rdatas.empty(); });
    trace_.any(owner, rrset == node.rrsets.end() ? 0 : rrset->type);
    if (rrset == node.rrsets.end()) return negative(zone);
    if (write_rrset(Section::answer, owner, *rrset, rrset->ttl) && wants_additional(rrset->type))
        additional_targets(zone, *rrset);
}

// NXDOMAIN and NODATA: the zone's SOA in authority with the negative TTL (RFC 2308 §3).
template <class Tracer>
void Answerer<Tracer>::negative(const zone::Zone& zone) {
    const zone::Node* apex = zone.find(zone.apex);
    const zone::RRset* soa = apex ? apex->find(rrtype::SOA) : nullptr;
    if (soa != nullptr && !soa->rdatas.empty()) write_rrset(Section::authority, zone.apex, *soa, zone.negative_ttl);
}

template <class Tracer>
void Answerer<Tracer>::referral(const zone::Zone& zone, const zone::Node& cut) {
    const zone::RRset* ns = cut.find(rrtype::NS);
    if (ns == nullptr || !write_rrset(Section::authority, cut.name, *ns, ns->ttl)) return;
    // Only glue at or below the cut: without it the resolver could not reach
    // the child at all, so it must fit (RFC 9471).
    glue_required_ = true;
    for (size_t i = 0; i < ns->rdatas.size() && !overflow_; ++i) {
        Target target;
        if (!target_at(ns->rdatas[i], 0, target) || !zone::is_at_or_below(target.view(), cut.name) ||
            already_named(*ns, i, target.view()))
            continue;
        if (const zone::Node* node = zone.find(target.view())) addresses(zone, *node, target.view());
    }
}

// In-zone addresses of NS, MX and SRV targets; the data at the target must be
// authoritative here, so names below a cut or only matched by a wildcard get none.
template <class Tracer>
void Answerer<Tracer>::additional_targets(const zone::Zone& zone, const zone::RRset& rrset) {
    const size_t offset = target_offset(rrset.type);
    for (size_t i = 0; i < rrset.rdatas.size() && !overflow_; ++i) {
        Target target;
        if (!target_at(rrset.rdatas[i], offset, target) || !zone::is_at_or_below(target.view(), zone.apex) ||
            already_named(rrset, i, target.view()))
            continue;
        const Lookup found = lookup(zone, target.view(), rrtype::A);
        if (found.kind == Lookup::Kind::exact) addresses(zone, *found.node, target.view());
    }
}

template <class Tracer>
void Answerer<Tracer>::addresses(const zone::Zone& zone, const zone::Node& node, std::string_view owner) {
    if (node.pool >= 0) {
        write_pool(Section::additional, zone, node, owner, core::Family::v4);
        write_pool(Section::additional, zone, node, owner, core::Family::v6);
        return;
    }
    for (uint16_t type : {rrtype::A, rrtype::AAAA})
        if (const zone::RRset* rrset = node.find(type)) write_rrset(Section::additional, owner, *rrset, rrset->ttl);
}

// Whether one of the first `before` RDATAs of `rrset` names `name` as its target.
template <class Tracer>
bool Answerer<Tracer>::already_named(const zone::RRset& rrset, size_t before, std::string_view name) const {
    const size_t offset = target_offset(rrset.type);
    for (size_t i = 0; i < before; ++i) {
        Target earlier;
        if (target_at(rrset.rdatas[i], offset, earlier) && earlier.view() == name) return true;
    }
    return false;
}

// Static RRsets of several records rotate like round-robin pools: the set's
// own counter picks which record goes first.
template <class Tracer>
bool Answerer<Tracer>::write_rrset(Section section, std::string_view owner, const zone::RRset& rrset, uint32_t ttl) {
    if (overflow_) return false;
    const auto mark = writer_.mark();
    const size_t count = rrset.rdatas.size();
    const uint64_t rotation = count > 1 ? state_.rotation_offset + state_.rotations.next(rrset.rotation_key) : 0;
    const bool at_question = is_question(owner);
    for (size_t i = 0; i < count; ++i) {
        const zone::Rdata& rdata = rrset.rdatas[(rotation + i) % count];
        const bool written =
            at_question && rdata.name_count == 0
                ? writer_.question_record(section, rrset.type, ttl, rdata.wire)
                : writer_.record(section, owner, rrset.type, ttl, rdata.wire, {rdata.name_offsets.data(), rdata.name_count});
        if (!written) return fail_rrset(section, mark);
    }
    trace_.rrset(section, owner, rrset, ttl, rotation);
    return true;
}

// The pool's members of `family` chosen by select(); how many were written.
template <class Tracer>
size_t Answerer<Tracer>::write_pool(Section section, const zone::Zone& zone, const zone::Node& node,
                             std::string_view owner, core::Family family) {
    if (overflow_ || failed_) return 0;
    const zone::Pool& pool = zone.pools[static_cast<size_t>(node.pool)];
    // prepare() sizes the scratch for the view; a worker that skipped it gets
    // SERVFAIL rather than a write out of bounds.
    if (state_.members.size() < pool.members.size() || state_.scratch.size() < pool.members.size()) {
        failed_ = true;
        return 0;
    }
    PoolQuestion question;
    question.zone = &zone;
    question.node = &node;
    question.family = family;
    question.client = client_;
    question.health = view_.health.get();
    question.geo = view_.geo.get();
    question.latency = view_.latency.get();
    question.counter = state_.rotation_offset + state_.rotations.next(pool.rotation_key(family));
    question.random = xorshift64(state_.rng_state);
    question.sticky_cache = &state_.sticky;
    const PoolChoice choice = choose(question, state_.members, state_.scratch);
    const Selection& selection = choice.selection;
    const std::span<const uint32_t> chosen{state_.members.data(), selection.count};
    if (selection.count == 0) {
        trace_.pool(section, owner, question, choice, chosen);
        return 0;
    }
    // Every pool in the response narrows the scope the whole response holds for.
    ecs_scope_prefix_ = std::max(ecs_scope_prefix_, choice.scope_prefix);
    const uint32_t ttl = choice.ttl;
    const uint16_t type = family == core::Family::v4 ? rrtype::A : rrtype::AAAA;
    const auto mark = writer_.mark();
    const bool at_question = is_question(owner);
    for (size_t i = 0; i < selection.count; ++i) {
        const core::Address& address = pool.members[state_.members[i]].address;
        const std::span<const uint8_t> rdata{address.bytes.data(), address.size()};
        if (!(at_question ? writer_.question_record(section, type, ttl, rdata)
                          : writer_.record(section, owner, type, ttl, rdata))) {
            fail_rrset(section, mark);
            return 0;
        }
    }
    if (section == Section::answer) pool_answer_ = {&zone, node.pool, selection.region, selection.tier};
    if (now_s_ != 0 && choice.input.health != nullptr && choice.input.health->handouts != nullptr)
        choice.input.health->handouts->handed_out(static_cast<size_t>(node.pool), chosen, now_s_ + ttl + 1);
    trace_.pool(section, owner, question, choice, chosen);
    return selection.count;
}

// An RRset that did not fit is dropped whole (RFC 2181 §9); returns false
// for the caller to pass on.
template <class Tracer>
bool Answerer<Tracer>::fail_rrset(Section section, const wire::ResponseWriter::Mark& mark) {
    writer_.rewind(mark);
    if (section != Section::additional || glue_required_) overflow_ = true;
    return false;
}

size_t response_limit(Transport transport, const wire::Query& query, const Options& options) {
    if (transport == Transport::tcp) return tcp_limit;
    if (!query.has_edns) return udp_minimum;
    return std::max<size_t>(udp_minimum, std::min<size_t>(query.edns.payload, options.udp_payload));
}

// The RRL class of an answer that names no zone's data: errors and refusals.
constexpr std::string_view root_name{"\0", 1};

// The Extended DNS Error that says why a query was refused (RFC 8914 §4).
uint16_t refusal_ede(const wire::Query& query) {
    return query.qtype == rrtype::AXFR || query.qtype == rrtype::IXFR ? wire::ede::prohibited
                                                                      : wire::ede::not_authoritative;
}

// RRL's verdict on a finished answer (SPEC §10): TCP, exempt networks and
// queries with a valid server cookie are never limited.
guard::Verdict rate_limit(guard::Rrl* rrl, Transport transport, bool cookie_valid, const core::Address& source,
                          std::string_view name, uint16_t qtype, uint16_t rcode, uint32_t now_s) {
    if (rrl == nullptr || transport != Transport::udp || cookie_valid || rrl->exempt(source))
        return guard::Verdict::pass;
    return rrl->account(source, name, qtype, static_cast<uint8_t>(rcode), now_s);
}

// The answer to a parsed query, every decision reported to `tracer`.
template <class Tracer>
Outcome answer_query(const wire::Query& query, wire::ParseStatus status, const core::Address& source,
                     Transport transport, uint32_t now_s, const View& view, WorkerState& state,
                     std::span<uint8_t> out, Tracer& tracer) {
    Outcome outcome;
    const size_t limit = std::min(out.size(), response_limit(transport, query, view.options));
    // A buffer below the smallest limit breaks respond()'s contract: drop.
    if (status == wire::ParseStatus::drop || limit < udp_minimum) return outcome;

    wire::ResponseWriter writer(out, limit);
    writer.begin(query);
    if (query.has_question) writer.question(query.qname.as_is_bytes(), query.qtype, query.qclass);
    const auto start = writer.mark();

    // The query's options are honoured only in a query we understood.
    const bool cookie_only = status == wire::ParseStatus::cookie_only;
    const bool understood = (status == wire::ParseStatus::ok || cookie_only) && query.edns.version == 0;
    wire::OptRecord opt;
    opt.payload = view.options.udp_payload;
    opt.dnssec_ok = query.edns.dnssec_ok;
    if (understood && query.edns.nsid) opt.nsid = view.options.nsid;
    if (understood && query.edns.has_ecs) opt.ecs = &query.edns.ecs;
    // A client cookie gets a fresh server cookie back, whatever it sent with
    // it (RFC 7873 §5.2.3); a valid one also spares the query from RRL.
    bool cookie_valid = false;
    guard::CookieOption cookie;
    if (understood && query.edns.has_cookie && state.cookies != nullptr) {
        cookie_valid = guard::valid_server_cookie(query.edns.cookie, source, now_s, *state.cookies);
        cookie = guard::answer_cookie(query.edns.cookie, source, now_s, *state.cookies);
        opt.cookie = cookie;
    }
    // An EDE goes only on a refusal, which leaves room enough for it.
    if (query.has_edns) writer.reserve(opt.size());

    uint16_t rcode = rcode::noerror;
    bool authoritative = false;
    std::string_view rrl_name = root_name;
    if (status == wire::ParseStatus::notimp) {
        rcode = rcode::notimp;
    } else if (cookie_only) {
        // RFC 7873 §5.4: the client asks for a server cookie alone. A server
        // that answers no cookies sees only a query without a question.
        rcode = state.cookies == nullptr ? rcode::formerr : cookie_valid ? rcode::noerror : rcode::badcookie;
    } else if (status == wire::ParseStatus::formerr) {
        rcode = rcode::formerr;
    } else if (query.has_edns && query.edns.version != 0) {
        rcode = rcode::badvers;  // RFC 6891 §6.1.3, with an OPT of our version 0
    } else if (query.qclass != wire::qclass::in || query.qtype == rrtype::AXFR || query.qtype == rrtype::IXFR ||
               !view.snapshot) {
        rcode = rcode::refused;
        opt.ede = refusal_ede(query);
    } else {
        const Client client = client_of(source, query.edns.has_ecs ? &query.edns.ecs : nullptr, view.options.ecs);
        Answerer<Tracer> answerer(view, state, query, client, now_s, writer, tracer);
        rcode = answerer.answer();
        if (answerer.failed()) {
            writer.rewind(start);
            rcode = rcode::servfail;
        } else {
            if (answerer.overflow()) writer.truncate();
            else outcome.pool_answer = answerer.pool_answer();
            authoritative = answerer.authoritative();
            opt.ecs_scope_prefix = answerer.ecs_scope_prefix();
            if (rcode == rcode::refused) opt.ede = wire::ede::not_authoritative;
            else rrl_name = answerer.rrl_name();
        }
    }
    outcome.rrl = rate_limit(state.rrl, transport, cookie_valid, source, rrl_name, query.qtype, rcode, now_s);
    if (outcome.rrl == guard::Verdict::drop) {
        outcome.pool_answer = {};
        return outcome;
    }
    if (outcome.rrl == guard::Verdict::slip) {
        // An empty answer with TC: a real client retries over TCP, which is never limited.
        writer.truncate();
        outcome.pool_answer = {};
    }
    writer.set_authoritative(authoritative);
    writer.set_rcode(rcode);
    outcome.size = writer.finish(query.has_edns ? &opt : nullptr);
    outcome.qtype = query.qtype;
    outcome.rcode = static_cast<uint8_t>(rcode);
    outcome.truncated = writer.truncated();
    tracer.finish(rcode, authoritative, outcome.truncated, opt.ecs_scope_prefix);
    return outcome;
}

}  // namespace

void WorkerState::prepare(const View& view) {
    const size_t size = view.snapshot ? view.snapshot->max_pool_members : 0;
    if (members.size() != size) members.assign(size, 0);
    if (scratch.size() != size) scratch.assign(size, 0);
    if (view.snapshot != snapshot_) sticky.clear();
    if (view.snapshot && view.snapshot != snapshot_) rotations.adopt(*view.snapshot);
    snapshot_ = view.snapshot;
}

Outcome respond(const Request& request, const View& view, WorkerState& state, std::span<uint8_t> out) {
    wire::Query query;
    const wire::ParseStatus status = wire::parse_query(request.packet, query);
    NoTrace tracer;
    return answer_query(query, status, request.source, request.transport, request.now_s, view, state, out, tracer);
}

Outcome respond(const wire::Query& query, const core::Address& source, Transport transport, const View& view,
                WorkerState& state, std::span<uint8_t> out, Trace& trace) {
    return answer_query(query, wire::ParseStatus::ok, source, transport, 0, view, state, out, trace);
}

}  // namespace dnsd::answer
