#include "dnsd/fleet/fleet.hpp"

#include <fmt/ranges.h>

#include <algorithm>

#include "dnsd/core/log.hpp"
#include "dnsd/zone/name.hpp"
#include "dnsd/fleet/zone_cache.hpp"

namespace dnsd::fleet {

namespace {

using SystemClock = std::chrono::system_clock;
using zone::zone_key;
constexpr uint64_t tick_ms = 1000;
// Latency records handed to the Link at a time: a few seconds of its writes at most.
constexpr size_t latency_batch = 1000;

int64_t unix_ms(SystemClock::time_point at) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(Connection connection) {
    constexpr std::string_view names[] = {"connecting", "connected", "isolated"};
    return names[static_cast<size_t>(connection)];
}

Fleet::Fleet(uv_loop_t* loop, const config::Fleet& settings, std::filesystem::path zone_cache, Hooks hooks)
    : settings_(settings),
      zone_cache_(std::move(zone_cache)),
      hooks_(std::move(hooks)),
      stale_after_(std::chrono::seconds(settings.stale_after_s)) {
    if (!zone_cache_.empty()) zones_revision_ = cached_revision(zone_cache_);
    on_verdicts_changed();
    hooks_.monitor.on_verdicts_changed([this] { on_verdicts_changed(); });
    tick_ = new uv_timer_t;
    uv_timer_init(loop, tick_);
    tick_->data = this;
    uv_timer_start(tick_, on_tick, tick_ms, tick_ms);
    std::vector<Bucket> watched{Bucket::state, Bucket::health, Bucket::latency};
    if (!zone_cache_.empty()) watched.push_back(Bucket::zones);
    spdlog::info("fleet: node {} connecting to {}", settings_.node, fmt::join(settings_.nats, ", "));
    link_ = std::make_unique<Link>(loop, settings_, std::move(watched),
                                   [this](std::vector<Event> events) { on_events(std::move(events)); });
}

Fleet::~Fleet() { close(); }

void Fleet::close() {
    if (!link_) return;
    hooks_.monitor.on_verdicts_changed(nullptr);
    link_->close();
    link_.reset();
    tick_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(tick_), [](uv_handle_t* handle) {
        delete reinterpret_cast<uv_timer_t*>(handle);
    });
    tick_ = nullptr;
}

void Fleet::on_tick(uv_timer_t* timer) {
    auto* self = static_cast<Fleet*>(timer->data);
    if (self == nullptr) return;
    self->decide_all();
    if (self->connection_ == Connection::connected && Clock::now() >= self->next_heartbeat_) self->send_heartbeat();
}

void Fleet::on_events(std::vector<Event> events) {
    for (Event& event : events) {
        switch (event.kind) {
            case Event::Kind::connected:
                connection_ = Connection::connected;
                problem_.clear();
                spdlog::info("fleet: connected to {} as {}", event.text, settings_.node);
                send_heartbeat();
                send_latency();
                break;
            case Event::Kind::lost:
                if (connection_ == Connection::connected)
                    spdlog::warn("fleet: {}: isolated, answering from this node's own verdicts and the last shared "
                                 "state until it is back",
                                 event.text);
                else
                    spdlog::warn("fleet: {}: isolated, retrying", event.text);
                connection_ = Connection::isolated;
                problem_ = event.text;
                overrides_synced_ = false;
                decide_all();
                break;
            case Event::Kind::snapshot:
            case Event::Kind::update:
                if (event.bucket == Bucket::state) {
                    on_state(event);
                    on_registrations(event);
                }
                if (event.bucket == Bucket::health) on_health(event);
                if (event.bucket == Bucket::zones) on_zones(event);
                if (event.bucket == Bucket::latency) {
                    counters_.latency += event.entries.size();
                    if (latency_received_) latency_received_(event.entries, event.kind == Event::Kind::snapshot);
                }
                break;
            case Event::Kind::written:
                if (event.bucket == Bucket::latency)
                    on_latency_written(event.entries.size());
                else
                    on_written(event);
                break;
            case Event::Kind::failed:
                ++counters_.write_failures;
                spdlog::warn("fleet: {}", event.text);
                if (event.bucket == Bucket::latency) on_latency_written(1);
                break;
        }
    }
}

// ---- overrides ------------------------------------------------------------

void Fleet::share_override(const health::Override& entry) {
    health::Override normal = entry;
    normal.zone = zone_key(entry.zone);
    const std::string key = override_key(normal);
    if (normal.state == zone::MemberState::automatic)
        link_->remove(Bucket::state, key);
    else
        link_->put(Bucket::state, key, encode_override(normal, settings_.node));
    pending_[key] = PendingOverride{std::move(normal), false, 0};
}

void Fleet::on_written(const Event& event) {
    for (const Entry& entry : event.entries) {
        if (auto it = pending_.find(entry.key); it != pending_.end()) {
            it->second.written = true;
            it->second.revision = entry.revision;
        }
        if (auto it = pending_registrations_.find(entry.key); it != pending_registrations_.end()) {
            it->second.written = true;
            it->second.revision = entry.revision;
        }
    }
}

void Fleet::on_state(const Event& event) {
    const bool snapshot = event.kind == Event::Kind::snapshot;
    if (snapshot) overrides_.clear();
    bool any = false;  // an override key, deleted ones included: the fleet has had overrides
    for (const Entry& entry : event.entries) {
        if (!entry.key.starts_with(override_prefix)) continue;
        ++counters_.overrides;
        any = true;
        // A write of ours is settled once the fleet's copy is at least as new.
        if (auto pending = pending_.find(entry.key);
            pending != pending_.end() && pending->second.written && entry.revision >= pending->second.revision)
            pending_.erase(pending);
        if (entry.deleted) {
            overrides_.erase(entry.key);
            continue;
        }
        core::Diagnostics problems;
        auto decoded = decode_override(entry.value, std::string(bucket_name(Bucket::state)) + ":" + entry.key, problems);
        if (!decoded) {
            spdlog::warn("fleet: override not used: {}", problems.empty() ? "?" : problems.front().to_string());
            continue;
        }
        decoded->zone = zone_key(decoded->zone);
        overrides_[entry.key] = SharedOverride{entry.revision, std::move(*decoded)};
    }
    if (snapshot) {
        std::erase_if(pending_, [](const auto& p) { return p.second.written; });
        // A fleet that never held an override (new, or its store lost) gets
        // this node's: the last shared state is not dropped. One whose
        // overrides were all ended keeps its delete markers, and ends this
        // node's.
        if (!any && pending_.empty())
            for (const health::Override& kept : hooks_.monitor.overrides()) share_override(kept);
        overrides_synced_ = true;
    }
    apply_overrides();
}

void Fleet::apply_overrides() {
    if (!overrides_synced_) return;
    std::vector<const SharedOverride*> by_revision;
    for (const auto& [key, shared] : overrides_)
        if (!pending_.contains(key)) by_revision.push_back(&shared);
    std::sort(by_revision.begin(), by_revision.end(),
              [](const SharedOverride* a, const SharedOverride* b) { return a->revision < b->revision; });
    std::vector<health::Override> in_force;
    for (const SharedOverride* shared : by_revision) in_force.push_back(shared->entry);
    // Set here and not yet seen back: in force already, as on the PUT.
    for (const auto& [key, pending] : pending_)
        if (pending.entry.state != zone::MemberState::automatic) in_force.push_back(pending.entry);
    if (in_force == hooks_.monitor.overrides()) return;
    hooks_.monitor.replace_overrides(in_force);
    hooks_.overrides_changed(hooks_.monitor.overrides());
}

// ---- latency --------------------------------------------------------------

void Fleet::on_latency(LatencyEntries received) { latency_received_ = std::move(received); }

void Fleet::share_latency(std::vector<std::pair<std::string, std::string>> records) {
    for (auto& [key, value] : records) latency_unsent_.insert_or_assign(std::move(key), std::move(value));
    send_latency();
}

void Fleet::on_latency_written(size_t writes) {
    latency_in_flight_ -= std::min(latency_in_flight_, writes);
    send_latency();
}

void Fleet::send_latency() {
    // While the connection is away the batch in flight waits in the Link.
    if (!link_ || connection_ != Connection::connected || latency_in_flight_ > 0) return;
    for (auto it = latency_unsent_.begin(); it != latency_unsent_.end() && latency_in_flight_ < latency_batch;
         ++latency_in_flight_) {
        link_->put(Bucket::latency, it->first, std::move(it->second));
        it = latency_unsent_.erase(it);
    }
}

// ---- registrations --------------------------------------------------------

// Renewals. An instance renews its lease on some node every so often; the
// other nodes need the lease's end only so as not to end it too early. A
// renewal that moves the end the fleet holds later by a quarter of the lease
// or less therefore stays on this node: the fleet's end is then never more
// than a quarter lease behind this node's, and is behind only after a renewal
// that came within a quarter lease of the last one written, so it still runs
// at least three quarters of a lease past that renewal. An instance renewing
// at least every half lease (the usual pace) is never ended early on another
// node, with a quarter lease to spare; one renewing a 300 s lease every 10 s
// costs a write every 80 s instead of every 10 s. A renewal that shortens the
// lease is always written: a node must not keep a member longer than asked.
// No rule can do with less than a write per registration per lease (the
// other nodes must hear of a new end before the old one passes): 10,000
// instances renewing 60 s leases every 30 s write every renewal, 333 a
// second, each of which the other nodes take as a moved end, publishing nothing.
bool renewal_worth_writing(SystemClock::time_point held, SystemClock::time_point renewed, std::chrono::seconds lease) {
    return renewed < held || renewed - held > lease / 4;
}

void Fleet::share_registration(const Registration& entry, std::chrono::seconds lease) {
    Registration normal = entry;
    normal.zone = zone_key(entry.zone);
    const std::string key = registration_key(normal);
    const Registration* held = nullptr;
    if (auto pending = pending_registrations_.find(key); pending != pending_registrations_.end())
        held = pending->second.entry ? &*pending->second.entry : nullptr;
    else if (auto shared = registrations_.find(key); shared != registrations_.end())
        held = &shared->second;
    if (held != nullptr && held->same_member(normal) &&
        !renewal_worth_writing(held->expires_at, normal.expires_at, lease))
        return;
    write_registration(key, std::move(normal));
}

void Fleet::write_registration(const std::string& key, Registration entry) {
    link_->put(Bucket::state, key, encode_registration(entry, settings_.node));
    pending_registrations_[key] = PendingRegistration{std::move(entry), false, 0};
}

void Fleet::share_deregistration(const Registration& entry) {
    Registration normal = entry;
    normal.zone = zone_key(entry.zone);
    const std::string key = registration_key(normal);
    link_->remove(Bucket::state, key);
    pending_registrations_[key] = PendingRegistration{std::nullopt, false, 0};
}

void Fleet::on_registrations(const Event& event) {
    const bool snapshot = event.kind == Event::Kind::snapshot;
    if (snapshot) registrations_.clear();
    // Each key's last change in this event: its registration, or none for a delete.
    std::map<std::string, std::optional<Registration>> changes;
    bool any = false;  // a registration key, deleted ones included: the fleet has had registrations
    for (const Entry& entry : event.entries) {
        if (!entry.key.starts_with(registration_prefix)) continue;
        ++counters_.registrations;
        any = true;
        // A write of ours is settled once the fleet's copy is at least as
        // new; until then this node's copy is the newer one.
        bool ours = false;
        if (auto pending = pending_registrations_.find(entry.key); pending != pending_registrations_.end()) {
            if (pending->second.written && entry.revision >= pending->second.revision)
                pending_registrations_.erase(pending);
            else
                ours = true;
        }
        if (entry.deleted) {
            auto known = registrations_.find(entry.key);
            if (known == registrations_.end()) continue;
            if (ours) {
                registrations_.erase(known);
                changes.erase(entry.key);
            } else {
                changes[entry.key] = std::nullopt;  // the record stays until then: what to end
            }
            continue;
        }
        core::Diagnostics problems;
        auto decoded =
            decode_registration(entry.value, std::string(bucket_name(Bucket::state)) + ":" + entry.key, problems);
        if (!decoded) {
            spdlog::warn("fleet: registration not used: {}", problems.empty() ? "?" : problems.front().to_string());
            continue;
        }
        decoded->zone = zone_key(decoded->zone);
        registrations_[entry.key] = *decoded;
        if (ours)
            changes.erase(entry.key);
        else
            changes[entry.key] = std::move(*decoded);
    }
    std::vector<Registration> held, deleted;
    for (auto& [key, change] : changes) {
        if (change) {
            held.push_back(std::move(*change));
            continue;
        }
        deleted.push_back(std::move(registrations_.at(key)));
        registrations_.erase(key);
    }
    if (snapshot) {
        std::erase_if(pending_registrations_, [](const auto& p) { return p.second.written; });
        const std::vector<Registration> own = hooks_.registrations.list();
        if (!any && pending_registrations_.empty()) {
            // A fleet that never held a registration (new, or its store
            // lost) gets this node's: the last shared state is not dropped.
            // One whose registrations were all deleted keeps its delete
            // markers, and ends this node's.
            for (const Registration& kept : own) write_registration(registration_key(kept), kept);
        } else {
            // What the fleet no longer holds was deleted while this node was
            // away, unless this node has just written it.
            for (const Registration& kept : own) {
                const std::string key = registration_key(kept);
                if (!registrations_.contains(key) && !pending_registrations_.contains(key)) deleted.push_back(kept);
            }
        }
    }
    if (!held.empty() || !deleted.empty()) hooks_.registrations.apply(std::move(held), std::move(deleted));
}

// ---- health ---------------------------------------------------------------

void Fleet::on_verdicts_changed() {
    own_.clear();
    for (const health::Verdict& verdict : hooks_.monitor.verdicts()) own_[verdict.target] = verdict.up;
    share_verdicts();
    decide_all();
}

void Fleet::share_verdicts() {
    if (connection_ != Connection::connected || !link_) return;
    for (const auto& [target, up] : own_) {
        auto shared = shared_votes_.find(target);
        if (shared != shared_votes_.end() && shared->second == up) continue;
        link_->put(Bucket::health, vote_key(settings_.node, target), encode_vote({settings_.node, target, up}));
        shared_votes_[target] = up;
    }
    for (auto it = shared_votes_.begin(); it != shared_votes_.end();) {
        if (own_.contains(it->first)) {
            ++it;
            continue;
        }
        link_->remove(Bucket::health, vote_key(settings_.node, it->first));
        it = shared_votes_.erase(it);
    }
}

void Fleet::on_health(const Event& event) {
    const Clock::time_point now = Clock::now();
    const SystemClock::time_point wall = SystemClock::now();
    if (event.kind == Event::Kind::snapshot) {
        nodes_.clear();
        health_keys_.clear();
        shared_votes_.clear();
    }
    for (const Entry& entry : event.entries) {
        const std::string where = std::string(bucket_name(Bucket::health)) + ":" + entry.key;
        if (entry.deleted) {
            auto known = health_keys_.find(entry.key);
            if (known == health_keys_.end()) continue;
            const auto& [node, target] = known->second;
            if (node == settings_.node)
                shared_votes_.erase(target);
            else if (auto it = nodes_.find(node); it != nodes_.end()) {
                if (target.empty())
                    it->second.heartbeat.reset();
                else
                    it->second.votes.erase(target);
            }
            health_keys_.erase(known);
            continue;
        }
        core::Diagnostics problems;
        if (entry.key.starts_with(node_prefix)) {
            ++counters_.heartbeats;
            auto heartbeat = decode_heartbeat(entry.value, where, problems);
            if (!heartbeat) {
                spdlog::warn("fleet: heartbeat not used: {}", problems.empty() ? "?" : problems.front().to_string());
                continue;
            }
            health_keys_[entry.key] = {heartbeat->node, ""};
            if (heartbeat->node == settings_.node) continue;
            Node& node = nodes_[heartbeat->node];
            // Heard when NATS stored it: a heartbeat read long after (at
            // start-up, after a reconnect) is as old as it was then.
            const SystemClock::time_point stored{std::chrono::duration_cast<SystemClock::duration>(
                std::chrono::nanoseconds(entry.created_ns))};
            const auto age = std::max(SystemClock::duration::zero(), wall - stored);
            node.heard = now - std::chrono::duration_cast<Clock::duration>(age);
            node.heard_wall = std::min(stored, wall);
            node.heartbeat = std::move(*heartbeat);
        } else if (entry.key.starts_with(vote_prefix)) {
            ++counters_.verdicts;
            auto vote = decode_vote(entry.value, where, problems);
            if (!vote) {
                spdlog::warn("fleet: verdict not used: {}", problems.empty() ? "?" : problems.front().to_string());
                continue;
            }
            health_keys_[entry.key] = {vote->node, vote->target};
            if (vote->node == settings_.node)
                shared_votes_[vote->target] = vote->up;
            else
                nodes_[vote->node].votes[vote->target] = vote->up;
        }
    }
    if (event.kind == Event::Kind::snapshot) share_verdicts();
    decide_all();
}

bool Fleet::fresh(const Node& node, Clock::time_point now) const {
    return node.heartbeat.has_value() && now - node.heard <= stale_after_;
}

std::optional<TargetVotes> Fleet::votes(std::string_view target) const {
    const Clock::time_point now = Clock::now();
    TargetVotes out;
    std::vector<Vote> counted;
    const std::string name(target);
    if (auto own = own_.find(name); own != own_.end()) {
        out.votes.emplace_back(settings_.node, own->second);
        counted.push_back({own->second, now});
    }
    for (const auto& [node_name, node] : nodes_) {
        auto vote = node.votes.find(name);
        if (vote == node.votes.end() || !fresh(node, now)) continue;
        out.votes.emplace_back(node_name, vote->second);
        counted.push_back({vote->second, node.heard});
    }
    if (out.votes.empty()) return std::nullopt;
    out.decision = decide(counted, settings_.health_quorum, now, stale_after_);
    return out;
}

void Fleet::decide_all() {
    std::map<std::string, bool> fleet_up;
    if (connection_ == Connection::connected)
        for (const auto& [target, own_up] : own_) {
            const auto votes = this->votes(target);
            const Decision decision = votes ? votes->decision : Decision{own_up, 1, own_up ? 0u : 1u};
            fleet_up[target] = decision.up;
            auto before = fleet_up_.find(target);
            const bool was_up = before != fleet_up_.end() ? before->second : own_up;
            if (was_up != decision.up)
                spdlog::warn("fleet: {}: {} for the fleet (down on {} of {} node{}, quorum {})", target,
                             decision.up ? "up" : "down", decision.down, decision.counted,
                             decision.counted == 1 ? "" : "s", config::to_string(settings_.health_quorum));
        }
    if (fleet_up == fleet_up_) return;
    fleet_up_ = fleet_up;
    hooks_.monitor.set_fleet_verdicts({fleet_up.begin(), fleet_up.end()});
}

size_t Fleet::nodes_heard() const {
    const Clock::time_point now = Clock::now();
    return 1 + static_cast<size_t>(std::count_if(nodes_.begin(), nodes_.end(),
                                                 [&](const auto& n) { return fresh(n.second, now); }));
}

Heartbeat Fleet::own_heartbeat() const {
    Heartbeat heartbeat = hooks_.report();
    heartbeat.node = settings_.node;
    heartbeat.version = DNSD_VERSION;
    heartbeat.started_at_s = std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count();
    heartbeat.sent_at_ms = unix_ms(SystemClock::now());
    heartbeat.zones_revision = zones_revision_;
    return heartbeat;
}

void Fleet::send_heartbeat() {
    if (!link_) return;
    link_->put(Bucket::health, node_key(settings_.node), encode_heartbeat(own_heartbeat()));
    const auto interval = std::max<Clock::duration>(std::chrono::seconds(1), stale_after_ / 3);
    next_heartbeat_ = Clock::now() + interval;
}

// ---- zones ----------------------------------------------------------------

void Fleet::on_zones(const Event& event) {
    for (const Entry& entry : event.entries) {
        if (entry.key != zones_key || entry.deleted) continue;
        ++counters_.zones;
        if (zones_revision_ == entry.revision) continue;
        core::Diagnostics problems;
        auto zones = decode_zone_set(entry.value, std::string(bucket_name(Bucket::zones)) + ":" + entry.key, problems);
        if (!zones) {
            spdlog::error("fleet: zones at revision {} not used: {}", entry.revision,
                          problems.empty() ? "?" : problems.front().to_string());
            continue;
        }
        std::string error;
        if (!write_zone_cache(zone_cache_, *zones, entry.revision, error)) {
            spdlog::error("fleet: zones at revision {} not used: {}", entry.revision, error);
            continue;
        }
        zones_revision_ = entry.revision;
        spdlog::info("fleet: zones at revision {} ({} file{}, pushed by {}): reloading", entry.revision,
                     zones->files.size(), zones->files.size() == 1 ? "" : "s",
                     zones->pushed_by.empty() ? "?" : zones->pushed_by);
        hooks_.reload_zones();
    }
}

// ---- status ---------------------------------------------------------------

Status Fleet::status() const {
    const Clock::time_point now = Clock::now();
    Status status;
    status.node = settings_.node;
    status.connection = connection_;
    status.problem = problem_;
    status.zones_revision = zones_revision_;
    NodeStatus& self = status.nodes.emplace_back();
    self.node = settings_.node;
    self.self = true;
    self.heartbeat = own_heartbeat();
    self.last_heard = SystemClock::now();
    for (const auto& [name, node] : nodes_) {
        NodeStatus& other = status.nodes.emplace_back();
        other.node = name;
        other.heartbeat = node.heartbeat;
        other.last_heard = node.heard_wall;
        other.stale = !fresh(node, now);
    }
    // Drift: a node heard from that serves an older serial of a zone than
    // another such node, lacks a zone one serves, or an older zone set.
    std::map<std::string, uint32_t> newest;
    std::optional<uint64_t> newest_revision;
    for (const NodeStatus& node : status.nodes) {
        if (node.stale || !node.heartbeat) continue;
        for (const auto& [zone_name, serial] : node.heartbeat->zones)
            newest[zone_name] = std::max(newest[zone_name], serial);
        if (node.heartbeat->zones_revision)
            newest_revision = std::max(newest_revision.value_or(0), *node.heartbeat->zones_revision);
    }
    for (NodeStatus& node : status.nodes) {
        if (node.stale || !node.heartbeat) continue;
        for (const auto& [zone_name, serial] : newest) {
            auto it = node.heartbeat->zones.find(zone_name);
            if (it == node.heartbeat->zones.end() || it->second != serial) node.drift = true;
        }
        if (newest_revision && node.heartbeat->zones_revision != newest_revision) node.drift = true;
        status.drift = status.drift || node.drift;
    }
    return status;
}

}  // namespace dnsd::fleet
