#include "dnsd/discovery/discovery.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "dnsd/discovery/response.hpp"
#include "dnsd/wire/message.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::discovery {

namespace rrtype = wire::rrtype;

struct Discovery::Source {
    std::string zone, pool;
    zone::MemberSource spec;
    SourceRefresh refresh;
    core::AresChannel* channel = nullptr;
    Lookup* lookup = nullptr;  // in flight
};

// One refresh of one source: the query for its name and, for SRV, an A and
// an AAAA query for each target, all through the source's channel. Each
// query's callback argument is one of `queries_`, which say what was asked.
class Discovery::Lookup {
public:
    Lookup(Discovery& discovery, Source& source) : discovery_(discovery), source_(&source), type_(source.spec.type) {}

    Source* source() const { return source_; }
    // The source stopped: the lookup runs to its end and reports to no one.
    void abandon() { source_ = nullptr; }

    void start(core::AresChannel& channel) {
        channel_ = &channel;
        send(source_->spec.name, type_, no_target);
    }

private:
    static constexpr size_t no_target = SIZE_MAX;
    struct Query {
        Lookup* lookup;
        uint16_t type;
        size_t target;  // index into targets_, or no_target for the source's own name
    };
    struct Target {
        std::string name;
        std::vector<core::Address> addresses;
    };

    void send(const std::string& name, uint16_t type, size_t target) {
        queries_.push_back(std::make_unique<Query>(Query{this, type, target}));
        ++pending_;
        if (std::string error = channel_->query(name, type, on_answer, queries_.back().get()); !error.empty())
            answered(*queries_.back(), error, nullptr);
    }

    static void on_answer(void* arg, int status, int, unsigned char* bytes, int size) {
        auto& query = *static_cast<Query*>(arg);
        std::optional<Response> response;
        if (status == ARES_SUCCESS) {
            response = parse_response({bytes, static_cast<size_t>(size)}, query.type);
            if (!response) return query.lookup->answered(query, "malformed response", nullptr);
        }
        query.lookup->answered(query, status == ARES_SUCCESS ? "" : ares_strerror(status),
                               response ? &*response : nullptr);
    }

    // A query's answer: `response` when one came, else `error`. The lookup
    // finishes (and is freed) with the last one.
    void answered(const Query& query, std::string error, const Response* response) {
        if (response && response->rcode != wire::rcode::noerror && response->rcode != wire::rcode::nxdomain)
            error = wire::rcode_name(response->rcode);
        if (query.target == no_target)
            own_answer(std::move(error), response);
        else if (!error.empty())
            fail(targets_[query.target].name + " " + wire::type_name(query.type) + ": " + error);
        else
            target_answer(targets_[query.target], *response);
        // Counted down last: the SRV targets' queries, sent above, keep it open.
        if (--pending_ == 0) discovery_.finish(*this, conclude());
    }

    void own_answer(std::string error, const Response* response) {
        if (!error.empty()) return fail(std::move(error));
        outcome_.records = response->records();
        if (response->rcode == wire::rcode::nxdomain || response->records() == 0) {
            outcome_.kind = Outcome::Kind::empty;
            outcome_.error = response->rcode == wire::rcode::nxdomain ? "NXDOMAIN" : "NODATA";
            outcome_.ttl_s = response->negative_ttl_s.value_or(0);
            return;
        }
        outcome_.kind = Outcome::Kind::found;
        outcome_.ttl_s = *response->ttl_s;
        for (const core::Address& address : response->addresses) outcome_.members.push_back({address, 0, 0, 1});
        services_ = response->services;
        for (const Service& service : services_) {
            if (service.target == ".") continue;  // "no service here" (RFC 2782)
            auto same = [&](const Target& t) { return t.name == service.target; };
            if (std::find_if(targets_.begin(), targets_.end(), same) == targets_.end())
                targets_.push_back({service.target, {}});
        }
        // Sent once the list stops growing: queries point into it by index.
        for (size_t i = 0; i < targets_.size(); ++i)
            for (uint16_t type : {rrtype::A, rrtype::AAAA}) send(targets_[i].name, type, i);
    }

    void target_answer(Target& target, const Response& response) {
        target.addresses.insert(target.addresses.end(), response.addresses.begin(), response.addresses.end());
        if (response.ttl_s) outcome_.ttl_s = std::min(outcome_.ttl_s, *response.ttl_s);
    }

    void fail(std::string error) {
        if (failed_) return;  // the first reason is the one reported
        failed_ = true;
        outcome_.error = std::move(error);
    }

    Outcome conclude() {
        if (failed_) {
            outcome_.kind = Outcome::Kind::failed;
            outcome_.members.clear();
            return std::move(outcome_);
        }
        for (const Service& service : services_)
            for (const Target& target : targets_)
                if (target.name == service.target)
                    for (const core::Address& address : target.addresses)
                        outcome_.members.push_back({address, service.port, service.priority, service.weight});
        outcome_.members = sorted_members(std::move(outcome_.members));
        if (outcome_.kind == Outcome::Kind::found && outcome_.members.empty()) {
            outcome_.kind = Outcome::Kind::empty;
            outcome_.error = "no SRV target has an address";
        }
        return std::move(outcome_);
    }

    Discovery& discovery_;
    Source* source_;
    const uint16_t type_;
    core::AresChannel* channel_ = nullptr;
    std::vector<std::unique_ptr<Query>> queries_;
    size_t pending_ = 0;
    Outcome outcome_;
    bool failed_ = false;
    std::vector<Service> services_;
    std::vector<Target> targets_;
};

std::string source_label(const zone::MemberSource& source) { return "dns:" + source.name; }

std::vector<zone::Member> to_members(const zone::MemberSource& source, const std::vector<Found>& found) {
    std::vector<zone::Member> members;
    members.reserve(found.size());
    for (const Found& f : found) {
        zone::Member m;
        m.address = f.address;
        m.region = source.region;
        m.weight = source.weight.value_or(f.weight);
        m.priority = f.priority;
        m.state = source.state;
        m.port = f.port;
        members.push_back(m);
    }
    return members;
}

Discovery::Discovery(uv_loop_t* loop, Publish publish)
    : loop_(loop),
      publish_(std::move(publish)),
      timer_(this, [loop](uv_timer_t* timer) { return uv_timer_init(loop, timer); }) {}

Discovery::~Discovery() { close(); }

void Discovery::close() {
    closing_ = true;
    timer_.close();
    for (auto& lookup : lookups_) lookup->abandon();
    // Destroying a channel calls its lookups back, which frees them.
    channels_.clear();
    lookups_.clear();
    sources_.clear();
}

core::AresChannel& Discovery::channel_for(const std::optional<core::Endpoint>& resolver) {
    auto& channel = channels_[resolver ? resolver->to_string() : std::string()];
    if (!channel) channel = std::make_unique<core::AresChannel>(loop_, resolver, query_timeout_ms, query_tries);
    return *channel;
}

void Discovery::update(const zone::Snapshot& snapshot) {
    if (closing_) return;
    std::vector<std::unique_ptr<Source>> kept;
    for (const auto& zone : snapshot.zones)
        for (const auto& pool : zone->pools)
            for (const auto& spec : pool.members_from) {
                auto same = [&](const std::unique_ptr<Source>& s) {
                    return s && s->zone == zone->name && s->pool == pool.name && s->spec == spec;
                };
                if (auto it = std::find_if(sources_.begin(), sources_.end(), same); it != sources_.end()) {
                    kept.push_back(std::move(*it));
                    continue;
                }
                auto source = std::make_unique<Source>(Source{zone->name, pool.name, spec,
                                                              SourceRefresh(spec.refresh_min_s, spec.refresh_max_s,
                                                                            uv_now(loop_)),
                                                              &channel_for(spec.resolver), nullptr});
                kept.push_back(std::move(source));
            }
    // What stopped: its lookup is abandoned, and its label is told from the
    // timer, not from here: update() runs while control publishes a snapshot,
    // and a publish must not start inside another.
    for (auto& source : sources_) {
        if (!source) continue;
        if (source->lookup) source->lookup->abandon();
        stopped_.emplace(source->zone, source->pool, source_label(source->spec));
    }
    sources_ = std::move(kept);
    // Channels no source uses any more; their abandoned lookups end with them.
    for (auto it = channels_.begin(); it != channels_.end();) {
        auto uses = [&](const std::unique_ptr<Source>& s) { return s->channel == it->second.get(); };
        it = std::any_of(sources_.begin(), sources_.end(), uses) ? std::next(it) : channels_.erase(it);
    }
    arm();
}

void Discovery::start_lookup(Source& source) {
    lookups_.push_back(std::make_unique<Lookup>(*this, source));
    source.lookup = lookups_.back().get();
    source.lookup->start(*source.channel);
}

void Discovery::finish(Lookup& lookup, Outcome outcome) {
    if (Source* source = lookup.source(); source && !closing_) {
        source->lookup = nullptr;
        const unsigned failures_before = source->refresh.failures();
        if (source->refresh.record(std::move(outcome), uv_now(loop_)))
            publish(source->zone, source->pool, source_label(source->spec));
        // One line when lookups start failing and one when they stop, not one per retry.
        const SourceRefresh& r = source->refresh;
        const std::string what = source->spec.name + " " + wire::type_name(source->spec.type) + " for " +
                                 source->zone + "/" + source->pool;
        if (r.failures() == 1)
            spdlog::warn("discovery: {}: {}; keeping its {} member{} and retrying", what, r.error(),
                         r.members().size(), r.members().size() == 1 ? "" : "s");
        else if (r.failures() == 0 && failures_before > 0)
            spdlog::info("discovery: {} answers again after {} failed lookup{}", what, failures_before,
                         failures_before == 1 ? "" : "s");
    }
    // The lookup is freed here, in its last query's callback, which touches it no more.
    lookups_.remove_if([&](const std::unique_ptr<Lookup>& l) { return l.get() == &lookup; });
    if (!closing_) arm();
}

void Discovery::publish(const std::string& zone, const std::string& pool, const std::string& label) {
    std::vector<zone::Member> members;
    for (const auto& source : sources_)
        if (source->zone == zone && source->pool == pool && source_label(source->spec) == label) {
            auto more = to_members(source->spec, source->refresh.members());
            members.insert(members.end(), more.begin(), more.end());
        }
    spdlog::info("discovery: {}/{} {}: {} member{}", zone, pool, label, members.size(),
                 members.size() == 1 ? "" : "s");
    publish_(zone, pool, label, std::move(members));
}

void Discovery::arm() {
    if (!timer_) return;
    const uint64_t now = uv_now(loop_);
    std::optional<uint64_t> next;
    if (!stopped_.empty()) next = 0;
    for (const auto& source : sources_)
        if (!source->lookup) next = std::min(next.value_or(UINT64_MAX), source->refresh.wait_ms(now));
    if (next)
        uv_timer_start(timer_.get(), on_timer, *next, 0);
    else
        uv_timer_stop(timer_.get());
}

void Discovery::on_timer(uv_timer_t* timer) {
    Discovery* self = Timer::owner_of(timer);
    if (self == nullptr) return;
    for (const auto& [zone, pool, label] : std::exchange(self->stopped_, {})) self->publish(zone, pool, label);
    const uint64_t now = uv_now(self->loop_);
    // A lookup may finish at once (no channel), which changes nothing here but the timer.
    for (const auto& source : self->sources_)
        if (!source->lookup && source->refresh.wait_ms(now) == 0) self->start_lookup(*source);
    self->arm();
}

std::vector<SourceStatus> Discovery::status() const {
    const uint64_t now = uv_now(loop_);
    const auto wall = std::chrono::system_clock::now();
    auto at = [&](uint64_t ms) {
        return wall - std::chrono::milliseconds(now) + std::chrono::milliseconds(ms);
    };
    std::vector<SourceStatus> out;
    for (const auto& source : sources_) {
        const SourceRefresh& r = source->refresh;
        SourceStatus s;
        s.zone = source->zone;
        s.pool = source->pool;
        s.source = source->spec;
        s.refreshes = r.refreshes();
        if (r.refreshes() > 0) s.last_refresh = at(r.last_refresh_ms());
        s.in_flight = source->lookup != nullptr;
        s.next_refresh = s.in_flight ? wall : at(std::max(r.due_ms(), now));
        s.ttl_s = r.ttl_s();
        s.records = r.records();
        s.error = r.error();
        s.members = r.members().size();
        s.failures = r.failures();
        s.failures_total = r.failures_total();
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace dnsd::discovery
