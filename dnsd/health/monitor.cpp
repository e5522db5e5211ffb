#include "dnsd/health/monitor.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>

#include "dnsd/core/log.hpp"
#include "dnsd/core/uv_handle.hpp"
#include "dnsd/health/dns_probe.hpp"
#include "dnsd/health/probe.hpp"
#include "dnsd/health/rise_fall.hpp"
#include "dnsd/health/schedule.hpp"
#include "dnsd/health/tls.hpp"

namespace dnsd::health {

namespace {

using zone::Check;
using zone::MemberState;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

}  // namespace

std::string target_name(const zone::ProbeTarget& target) {
    const Check& check = target.check;
    std::string text = core::Endpoint{target.address, check.port}.to_string();
    text += ' ';
    text += zone::to_string(check.type);
    if (check.type == Check::Type::http || check.type == Check::Type::https) text += " " + check.path;
    if (check.type == Check::Type::dns) text += " " + check.query;
    return text;
}

namespace {

// Targets are the same when the address and every part of the check are: the
// key spells them all out, each string prefixed by its length.
std::string key_of(const zone::ProbeTarget& target) {
    const Check& check = target.check;
    std::string key(reinterpret_cast<const char*>(target.address.bytes.data()), target.address.bytes.size());
    auto add = [&key](std::string_view part) {
        key += std::to_string(part.size());
        key += ':';
        key += part;
    };
    for (uint64_t number : {uint64_t(target.address.family), uint64_t(check.type), uint64_t(check.port),
                            uint64_t(check.interval_ms), uint64_t(check.timeout_ms), uint64_t(check.rise),
                            uint64_t(check.fall), uint64_t(check.verify_tls), uint64_t(check.query_type)})
        add(std::to_string(number));
    add(check.path);
    add(check.host);
    add(check.expect_body);
    add(check.query);
    for (const auto& [low, high] : check.expect_status) add(std::to_string(low) + "-" + std::to_string(high));
    return key;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

// "Svc.Example.COM." → "svc.example.com", as zone::Zone::name spells it.
std::string zone_key(std::string_view name) {
    if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
    return lower(name);
}

}  // namespace

std::string_view outcome_name(ProbeOutcome outcome) {
    constexpr std::string_view names[probe_outcome_count] = {"success", "failure", "timeout"};
    return names[static_cast<size_t>(outcome)];
}

class Monitor::Impl {
public:
    Impl(uv_loop_t* loop, std::vector<std::string> region_names, Publish publish, std::vector<Override> restored)
        : loop_(loop),
          region_names_(std::move(region_names)),
          publish_(std::move(publish)),
          random_(std::random_device{}()) {
        // Applied until the first update() finds their members gone, so that it logs those.
        for (auto& entry : restored) {
            entry.zone = zone_key(entry.zone);
            overrides_.push_back({std::move(entry), true});
        }
    }

    void update(const zone::Snapshot& snapshot);
    OverrideResult set_override(std::string_view zone, std::string_view pool, const core::Address& address,
                                MemberState state);
    std::vector<Override> overrides() const;
    void replace_overrides(std::vector<Override> overrides);
    std::vector<Verdict> verdicts() const;
    void on_verdicts_changed(std::function<void()> changed) { verdicts_changed_ = std::move(changed); }
    void set_fleet_verdicts(std::unordered_map<std::string, bool> up_by_target);
    OverrideResult member(std::string_view zone, std::string_view pool, const core::Address& address,
                          MemberReport& report) const;
    Status status() const;
    const Counters& counters() const { return counters_; }
    void close();

private:
    class Target;
    struct ZoneTargets {
        std::shared_ptr<const zone::Zone> zone;
        std::vector<Target*> slots;  // by zone::Member::health_slot
        std::shared_ptr<const HandoutSlots> handouts;
    };
    struct MemberId {
        std::string zone;
        std::string pool;
        core::Address address;
    };
    // A member taken out while it was answerable, until an hour past its safe_to_remove_at.
    struct Drain {
        MemberId member;
        SystemClock::time_point out_since;
        const Handouts::Slot* slot;

        DrainStatus status() const {
            return {out_since, safe_to_remove_at(out_since, slot->load(std::memory_order_relaxed))};
        }
    };

    using HandoutTables = std::unordered_map<const zone::Zone*, std::shared_ptr<const HandoutSlots>>;
    // `zone`'s slot table: the one in `kept` (the zones adopted before), else a new one.
    std::shared_ptr<const HandoutSlots> handout_slots(const zone::Zone& zone, const HandoutTables& kept);
    // After any change of zones or overrides: a member that was answerable
    // (served, state not down) and is no longer starts draining; one that is
    // answerable again stops.
    void track_drains();
    const Drain* find_drain(std::string_view zone, std::string_view pool, const core::Address& address) const;
    MemberStatus member_status(const ZoneTargets& entry, const zone::Pool& pool, const zone::Member& member) const;

    void publish();
    // What answers use for `target`: the fleet's verdict if it has one, else its own.
    bool answer_up(const Target& target) const;
    void on_result(Target& target, ProbeOutcome outcome, SteadyClock::duration latency, bool changed);
    // Whether the zones served have this member: ok, or what they lack.
    OverrideResult locate(std::string_view zone, std::string_view pool, const core::Address& address) const;
    // Where the override of this member is in overrides_, applied or not;
    // overrides_.size() when it has none.
    size_t override_index(std::string_view zone, std::string_view pool, const core::Address& address) const;
    const Override* find_override(std::string_view zone, std::string_view pool, const core::Address& address) const {
        const size_t i = override_index(zone, pool, address);
        return i < overrides_.size() ? &overrides_[i].entry : nullptr;
    }

    uv_loop_t* loop_;
    const std::vector<std::string> region_names_;
    const Publish publish_;
    TlsContexts tls_;
    std::mt19937_64 random_;  // each new target's ProbeSchedule seed, so that servers do not probe in step
    std::unordered_map<std::string, std::unique_ptr<Target>> targets_;  // by key_of
    std::vector<ZoneTargets> zones_;                                   // snapshot order
    std::vector<OverrideStatus> overrides_;                            // in the order they were set
    std::unordered_map<std::string, bool> fleet_up_;                   // by target name; empty: own verdicts
    const std::shared_ptr<Handouts> handouts_ = std::make_shared<Handouts>();
    std::unordered_map<const Handouts::Slot*, MemberId> answerable_;  // as of the last change: served, not down
    std::vector<Drain> drains_;                                       // in the order they began
    std::function<void()> verdicts_changed_;
    Counters counters_;
    const SystemClock::time_point started_ = SystemClock::now();
    bool adopted_once_ = false;  // the zones served at start-up are adopted: later newcomers wait
    bool closed_ = false;
};

// One distinct target: its schedule, its probe in flight and its state.
// The timer is set to what the schedule says comes next: the deadline of the
// probe in flight, else the next probe.
class Monitor::Impl::Target {
public:
    // `waits`: the target of a member that joined at run time, down until its
    // first probe succeeds (SPEC §11); else it starts up (SPEC §5).
    Target(Impl& monitor, const zone::ProbeTarget& target, SystemClock::time_point since, bool waits)
        : monitor_(monitor),
          target_(target),
          name_(target_name(target)),
          timer_(this, [loop = monitor.loop_](uv_timer_t* timer) { return uv_timer_init(loop, timer); }),
          schedule_(target.check.interval_ms, target.check.timeout_ms, monitor.random_(), uv_now(monitor.loop_)),
          since_(since),
          waiting_(waits) {
        rule_.up = !waits;
        if (target.check.type == Check::Type::dns) dns_ = std::make_unique<DnsProber>(monitor.loop_, target);
        arm();
    }
    Target(const Target&) = delete;
    Target& operator=(const Target&) = delete;
    ~Target() {
        probe_.reset();  // before dns_, whose channel the probe may use
        dns_.reset();
    }

    const zone::ProbeTarget& target() const { return target_; }
    const std::string& name() const { return name_; }
    bool up() const { return rule_.up; }
    // Not yet up since it joined at run time: it waits for a successful probe.
    bool waiting() const { return waiting_; }

    void fill(MemberStatus& status) const {
        status.probed = true;
        status.target = name_;
        status.up = monitor_.answer_up(*this);
        status.own_up = rule_.up;
        status.last_check = last_check_;
        status.last_ok = last_ok_;
        status.last_error = last_error_;
        status.since = since_;
        status.latency_us = latency_us_;
        status.pending = waiting_;
    }

private:
    static void on_timer(uv_timer_t* timer) {
        Target* self = Timer::owner_of(timer);
        if (self == nullptr) return;
        if (self->schedule_.in_flight())
            self->finish({false, "timed out after " + std::to_string(self->target_.check.timeout_ms) + " ms"}, true);
        else
            self->begin();
    }

    void arm() { uv_timer_start(timer_.get(), on_timer, schedule_.wait_ms(uv_now(monitor_.loop_)), 0); }

    void begin() {
        schedule_.start(uv_now(monitor_.loop_));
        probe_started_ = SteadyClock::now();
        probe_.reset();  // the previous round's, reported long ago
        auto done = [this](ProbeResult result) { finish(std::move(result), false); };
        switch (target_.check.type) {
            case Check::Type::tcp: probe_ = start_tcp_probe(monitor_.loop_, target_, done); break;
            case Check::Type::http:
            case Check::Type::https: probe_ = start_http_probe(monitor_.loop_, target_, monitor_.tls_, done); break;
            case Check::Type::dns: probe_ = dns_->start(done); break;
            case Check::Type::none: return;  // never a target
        }
        // A probe that failed at once has already set the timer for the next round.
        if (schedule_.in_flight()) arm();
    }

    void finish(ProbeResult result, bool timed_out) {
        schedule_.finish();
        // A timed-out probe is cancelled now; one that reported stays until
        // the next round, since it may still be on the stack below us.
        if (timed_out) probe_.reset();
        const auto latency =
            timed_out ? std::chrono::milliseconds(target_.check.timeout_ms) : SteadyClock::now() - probe_started_;
        latency_us_ = static_cast<uint32_t>(
            std::min<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(latency).count(), UINT32_MAX));
        last_check_ = SystemClock::now();
        last_ok_ = result.ok;
        if (!result.ok) last_error_ = result.reason;
        const uint32_t streak_before = rule_.streak;
        // A newcomer's first success is enough: it was never up to fall from.
        const bool first_success = waiting_ && result.ok;
        bool changed = true;
        if (first_success)
            rule_ = {true, 0};
        else
            changed = apply(rule_, result.ok, target_.check.rise, target_.check.fall);
        if (rule_.up) waiting_ = false;
        if (changed) {
            since_ = *last_check_;
            const uint32_t count = streak_before + 1;
            if (first_success)
                spdlog::info("health: {}: up after its first probe", name_);
            else if (rule_.up)
                spdlog::info("health: {}: up after {} success{}", name_, count, count == 1 ? "" : "es");
            else
                spdlog::warn("health: {}: down after {} failure{}: {}", name_, count, count == 1 ? "" : "s",
                             result.reason);
        } else if (!result.ok) {
            spdlog::debug("health: {}: probe failed: {}", name_, result.reason);
        }
        arm();
        monitor_.on_result(*this, !result.ok ? (timed_out ? ProbeOutcome::timeout : ProbeOutcome::failure)
                                             : ProbeOutcome::success,
                           latency, changed);
    }

    using Timer = core::UvHandle<uv_timer_t, Target>;

    Impl& monitor_;
    const zone::ProbeTarget target_;
    const std::string name_;
    Timer timer_;
    std::unique_ptr<DnsProber> dns_;  // dns checks only
    std::unique_ptr<Probe> probe_;
    ProbeSchedule schedule_;
    SteadyClock::time_point probe_started_;  // for the latency, finer than the loop's clock
    RiseFall rule_;
    std::optional<SystemClock::time_point> last_check_;
    bool last_ok_ = true;
    std::string last_error_;
    SystemClock::time_point since_;
    uint32_t latency_us_ = 0;
    bool waiting_;
};

void Monitor::Impl::update(const zone::Snapshot& snapshot) {
    if (closed_) return;
    std::unordered_map<std::string, std::unique_ptr<Target>> targets;
    std::vector<ZoneTargets> zones;
    HandoutTables kept;
    for (const auto& entry : zones_) kept.emplace(entry.zone.get(), entry.handouts);
    size_t added = 0;
    for (const auto& zone : snapshot.zones) {
        ZoneTargets entry{zone, {}, handout_slots(*zone, kept)};
        // Targets that only members joined at run time have.
        std::vector<bool> runtime_only(zone->probe_targets.size(), true);
        for (const auto& pool : zone->pools)
            for (const auto& member : pool.members)
                if (member.source == 0 && member.health_slot < runtime_only.size())
                    runtime_only[member.health_slot] = false;
        for (size_t slot = 0; slot < zone->probe_targets.size(); ++slot) {
            const zone::ProbeTarget& probe_target = zone->probe_targets[slot];
            std::string key = key_of(probe_target);
            auto it = targets.find(key);
            if (it == targets.end()) {
                auto kept = targets_.find(key);
                if (kept != targets_.end()) {
                    it = targets.emplace(key, std::move(kept->second)).first;
                } else {
                    // Members start up, so a new target changes no answer
                    // until it has failed `fall` times; but one that joins
                    // a running server waits for its first probe.
                    const bool waits = adopted_once_ && runtime_only[slot];
                    auto target = std::make_unique<Target>(*this, probe_target, SystemClock::now(), waits);
                    it = targets.emplace(key, std::move(target)).first;
                    ++added;
                }
            }
            entry.slots.push_back(it->second.get());
        }
        zones.push_back(std::move(entry));
    }
    const auto removed =
        std::count_if(targets_.begin(), targets_.end(), [](const auto& t) { return t.second != nullptr; });
    // What is left in targets_ is gone from every zone: destroying it stops its probes.
    targets_ = std::move(targets);
    zones_ = std::move(zones);
    adopted_once_ = true;
    for (auto& [o, applied] : overrides_) {
        const bool there = locate(o.zone, o.pool, o.address) == OverrideResult::ok;
        if (there == applied) continue;
        applied = there;
        if (there)
            spdlog::info("health: override of {} in {}/{} to {} applies again: the member is back",
                         o.address.to_string(), o.zone, o.pool, zone::to_string(o.state));
        else
            spdlog::info("health: override of {} in {}/{} to {} kept but not applied: the zones served have no "
                         "such member (set it to auto to end it)",
                         o.address.to_string(), o.zone, o.pool, zone::to_string(o.state));
    }
    if (added != 0 || removed != 0)
        spdlog::info("health: {} target{} probed ({} new, {} gone)", targets_.size(), targets_.size() == 1 ? "" : "s",
                     added, removed);
    track_drains();
    publish();
    if ((added != 0 || removed != 0) && verdicts_changed_) verdicts_changed_();
}

std::shared_ptr<const HandoutSlots> Monitor::Impl::handout_slots(const zone::Zone& zone, const HandoutTables& kept) {
    if (auto it = kept.find(&zone); it != kept.end()) return it->second;
    auto table = std::make_shared<HandoutSlots>();
    table->owner = handouts_;
    table->slots.reserve(zone.pools.size());
    for (const auto& pool : zone.pools) {
        auto& slots = table->slots.emplace_back();
        slots.reserve(pool.members.size());
        for (const auto& member : pool.members) slots.push_back(&handouts_->slot(zone.name, pool.name, member.address));
    }
    return table;
}

void Monitor::Impl::track_drains() {
    const auto now = SystemClock::now();
    std::unordered_map<const Handouts::Slot*, MemberId> answerable;
    for (const auto& entry : zones_) {
        const zone::Zone& zone = *entry.zone;
        for (size_t p = 0; p < zone.pools.size(); ++p) {
            const zone::Pool& pool = zone.pools[p];
            for (size_t m = 0; m < pool.members.size(); ++m) {
                const zone::Member& member = pool.members[m];
                const Override* o = find_override(zone.name, pool.name, member.address);
                if ((o ? o->state : member.state) == MemberState::down) continue;
                answerable.try_emplace(entry.handouts->slots[p][m], MemberId{zone.name, pool.name, member.address});
            }
        }
    }
    // A slot is one member's, so one that left the set is a member taken out.
    std::erase_if(drains_, [&](const Drain& d) {
        return answerable.contains(d.slot) || d.status().safe_to_remove_at + std::chrono::hours(1) < now;
    });
    for (auto& [slot, id] : answerable_)
        if (!answerable.contains(slot)) drains_.push_back({std::move(id), now, slot});
    answerable_ = std::move(answerable);
}

OverrideResult Monitor::Impl::set_override(std::string_view zone_name, std::string_view pool_name,
                                           const core::Address& address, MemberState state) {
    const std::string zone = zone_key(zone_name);
    // auto ends an override, even one whose member is gone.
    if (state == MemberState::automatic) {
        const size_t existing = override_index(zone, pool_name, address);
        if (existing < overrides_.size()) {
            spdlog::info("health: override of {} in {}/{} ended: back to the zone file's state", address.to_string(),
                         zone, pool_name);
            overrides_.erase(overrides_.begin() + static_cast<std::ptrdiff_t>(existing));
            track_drains();
            publish();
            return OverrideResult::ok;
        }
    }
    const OverrideResult found = locate(zone, pool_name, address);
    // A member that is there and has no override: auto leaves it as it is.
    if (found != OverrideResult::ok || state == MemberState::automatic) return found;
    const size_t existing = override_index(zone, pool_name, address);
    if (existing < overrides_.size())
        overrides_[existing].entry.state = state;
    else
        overrides_.push_back({Override{zone, std::string(pool_name), address, state}, true});
    spdlog::info("health: {} in {}/{} set to {} by override", address.to_string(), zone, pool_name, zone::to_string(state));
    track_drains();
    publish();
    return OverrideResult::ok;
}

OverrideResult Monitor::Impl::locate(std::string_view zone, std::string_view pool_name,
                                     const core::Address& address) const {
    auto entry =
        std::find_if(zones_.begin(), zones_.end(), [&](const ZoneTargets& z) { return z.zone->name == zone; });
    if (entry == zones_.end()) return OverrideResult::no_such_zone;
    const auto& pools = entry->zone->pools;
    auto pool = std::find_if(pools.begin(), pools.end(), [&](const zone::Pool& p) { return p.name == pool_name; });
    if (pool == pools.end()) return OverrideResult::no_such_pool;
    if (std::none_of(pool->members.begin(), pool->members.end(),
                     [&](const zone::Member& m) { return m.address == address; }))
        return OverrideResult::no_such_member;
    return OverrideResult::ok;
}

size_t Monitor::Impl::override_index(std::string_view zone, std::string_view pool, const core::Address& address) const {
    size_t i = 0;
    while (i < overrides_.size() && !(overrides_[i].entry.zone == zone && overrides_[i].entry.pool == pool &&
                                       overrides_[i].entry.address == address))
        ++i;
    return i;
}

std::vector<Override> Monitor::Impl::overrides() const {
    std::vector<Override> out;
    for (const auto& o : overrides_) out.push_back(o.entry);
    return out;
}

void Monitor::Impl::publish() {
    auto view = std::make_shared<HealthView>();
    view->reserve(zones_.size());
    for (const auto& entry : zones_) {
        ZoneHealth health;
        health.up.reserve(entry.slots.size());
        for (const Target* target : entry.slots)
            health.up.push_back(answer_up(*target) ? 1 : target->waiting() ? ZoneHealth::unproven : 0);
        const auto& pools = entry.zone->pools;
        for (size_t p = 0; p < pools.size(); ++p) {
            const auto& members = pools[p].members;
            std::vector<MemberState> states;
            for (size_t m = 0; m < members.size(); ++m) {
                const Override* o = find_override(entry.zone->name, pools[p].name, members[m].address);
                if (o == nullptr) continue;
                if (states.empty())
                    for (const auto& member : members) states.push_back(member.state);
                states[m] = o->state;
            }
            if (states.empty()) continue;
            health.states.resize(pools.size());
            health.states[p] = std::move(states);
        }
        health.handouts = entry.handouts;
        view->add(entry.zone, std::move(health));
    }
    publish_(std::move(view));
}

void Monitor::Impl::on_result(Target& target, ProbeOutcome outcome, SteadyClock::duration latency, bool changed) {
    const auto type = static_cast<size_t>(target.target().check.type);
    ++counters_.probes[type][static_cast<size_t>(outcome)];
    LatencyHistogram& histogram = counters_.latency[type];
    const double seconds = std::chrono::duration<double>(latency).count();
    for (size_t i = 0; i < histogram.bounds_s.size(); ++i)
        if (seconds <= histogram.bounds_s[i]) ++histogram.cumulative[i];
    ++histogram.count;
    histogram.sum_s += seconds;
    if (!changed) return;
    ++(target.up() ? counters_.transitions_up : counters_.transitions_down);
    publish();
    if (verdicts_changed_) verdicts_changed_();
}

bool Monitor::Impl::answer_up(const Target& target) const {
    if (fleet_up_.empty()) return target.up();
    auto it = fleet_up_.find(target.name());
    return it != fleet_up_.end() ? it->second : target.up();
}

std::vector<Verdict> Monitor::Impl::verdicts() const {
    std::vector<Verdict> out;
    out.reserve(targets_.size());
    for (const auto& [key, target] : targets_) out.push_back({target->name(), target->up()});
    std::sort(out.begin(), out.end(), [](const Verdict& a, const Verdict& b) { return a.target < b.target; });
    return out;
}

void Monitor::Impl::set_fleet_verdicts(std::unordered_map<std::string, bool> up_by_target) {
    if (closed_) return;
    bool answers_change = false;
    for (const auto& [key, target] : targets_) {
        const bool before = answer_up(*target);
        auto it = up_by_target.find(target->name());
        const bool after = up_by_target.empty() || it == up_by_target.end() ? target->up() : it->second;
        answers_change = answers_change || before != after;
    }
    fleet_up_ = std::move(up_by_target);
    if (answers_change) publish();
}

void Monitor::Impl::replace_overrides(std::vector<Override> overrides) {
    if (closed_) return;
    std::vector<OverrideStatus> replaced;
    for (Override& entry : overrides) {
        entry.zone = zone_key(entry.zone);
        const Override* before = find_override(entry.zone, entry.pool, entry.address);
        if (before == nullptr || before->state != entry.state)
            spdlog::info("health: {} in {}/{} set to {} by the fleet", entry.address.to_string(), entry.zone,
                         entry.pool, zone::to_string(entry.state));
        const bool there = locate(entry.zone, entry.pool, entry.address) == OverrideResult::ok;
        replaced.push_back({std::move(entry), there});
    }
    bool changed = replaced.size() != overrides_.size();
    for (const auto& old : overrides_) {
        auto same = [&](const OverrideStatus& o) {
            return o.entry.zone == old.entry.zone && o.entry.pool == old.entry.pool &&
                   o.entry.address == old.entry.address;
        };
        auto now = std::find_if(replaced.begin(), replaced.end(), same);
        if (now == replaced.end())
            spdlog::info("health: override of {} in {}/{} ended by the fleet: back to the zone file's state",
                         old.entry.address.to_string(), old.entry.zone, old.entry.pool);
        changed = changed || now == replaced.end() || now->entry.state != old.entry.state;
    }
    overrides_ = std::move(replaced);
    if (!changed) return;
    track_drains();
    publish();
}

MemberStatus Monitor::Impl::member_status(const ZoneTargets& entry, const zone::Pool& pool,
                                          const zone::Member& member) const {
    const zone::Zone& zone = *entry.zone;
    MemberStatus m;
    m.address = member.address.to_string();
    if (member.region >= 0 && static_cast<size_t>(member.region) < region_names_.size())
        m.region = region_names_[static_cast<size_t>(member.region)];
    m.state = member.state;
    if (member.source < zone.sources.size()) m.source = zone.sources[member.source];
    if (const Override* o = find_override(zone.name, pool.name, member.address)) m.override_state = o->state;
    m.since = started_;
    if (member.health_slot < entry.slots.size()) entry.slots[member.health_slot]->fill(m);
    if (const Drain* drain = find_drain(zone.name, pool.name, member.address)) m.drain = drain->status();
    return m;
}

const Monitor::Impl::Drain* Monitor::Impl::find_drain(std::string_view zone, std::string_view pool,
                                                     const core::Address& address) const {
    auto it = std::find_if(drains_.begin(), drains_.end(), [&](const Drain& d) {
        return d.member.zone == zone && d.member.pool == pool && d.member.address == address;
    });
    return it == drains_.end() ? nullptr : &*it;
}

OverrideResult Monitor::Impl::member(std::string_view zone_name, std::string_view pool_name,
                                     const core::Address& address, MemberReport& report) const {
    const std::string zone = zone_key(zone_name);
    report = {};
    if (const Drain* drain = find_drain(zone, pool_name, address)) report.drain = drain->status();
    const OverrideResult found = locate(zone, pool_name, address);
    if (found != OverrideResult::ok) return report.drain ? OverrideResult::ok : found;
    const auto& entry = *std::find_if(zones_.begin(), zones_.end(), [&](const ZoneTargets& z) { return z.zone->name == zone; });
    const auto& pool = *std::find_if(entry.zone->pools.begin(), entry.zone->pools.end(),
                                     [&](const zone::Pool& p) { return p.name == pool_name; });
    const auto& member = *std::find_if(pool.members.begin(), pool.members.end(),
                                       [&](const zone::Member& m) { return m.address == address; });
    report.status = member_status(entry, pool, member);
    return OverrideResult::ok;
}

Status Monitor::Impl::status() const {
    const auto now = SystemClock::now();
    Status status;
    for (const auto& entry : zones_) {
        const zone::Zone& zone = *entry.zone;
        ZoneStatus& zone_status = status.zones.emplace_back();
        zone_status.name = zone.name;
        for (const auto& pool : zone.pools) {
            PoolStatus& pool_status = zone_status.pools.emplace_back();
            pool_status.name = pool.name;
            pool_status.check = pool.check.type;
            for (const auto& member : pool.members) pool_status.members.push_back(member_status(entry, pool, member));
            for (const Drain& drain : drains_) {
                if (drain.member.zone != zone.name || drain.member.pool != pool.name) continue;
                const DrainStatus drain_status = drain.status();
                const bool served = std::any_of(pool.members.begin(), pool.members.end(),
                                                [&](const zone::Member& m) { return m.address == drain.member.address; });
                if (!served && drain_status.draining(now))
                    pool_status.gone.push_back({drain.member.address.to_string(), drain_status});
            }
        }
    }
    status.overrides = overrides_;
    return status;
}

void Monitor::Impl::close() {
    if (closed_) return;
    closed_ = true;
    zones_.clear();
    targets_.clear();  // each Target closes its timer and cancels its probe
    overrides_.clear();
    answerable_.clear();
    drains_.clear();
}

Monitor::Monitor(uv_loop_t* loop, std::vector<std::string> region_names, Publish publish,
                 std::vector<Override> restored)
    : impl_(std::make_unique<Impl>(loop, std::move(region_names), std::move(publish), std::move(restored))) {}

Monitor::~Monitor() { impl_->close(); }

void Monitor::update(const zone::Snapshot& snapshot) { impl_->update(snapshot); }

OverrideResult Monitor::set_override(std::string_view zone, std::string_view pool, const core::Address& address,
                                     MemberState state) {
    return impl_->set_override(zone, pool, address, state);
}

std::vector<Override> Monitor::overrides() const { return impl_->overrides(); }

void Monitor::replace_overrides(std::vector<Override> overrides) { impl_->replace_overrides(std::move(overrides)); }

std::vector<Verdict> Monitor::verdicts() const { return impl_->verdicts(); }

void Monitor::on_verdicts_changed(std::function<void()> changed) { impl_->on_verdicts_changed(std::move(changed)); }

void Monitor::set_fleet_verdicts(std::unordered_map<std::string, bool> up_by_target) {
    impl_->set_fleet_verdicts(std::move(up_by_target));
}

OverrideResult Monitor::member(std::string_view zone, std::string_view pool, const core::Address& address,
                              MemberReport& report) const {
    return impl_->member(zone, pool, address, report);
}

Status Monitor::status() const { return impl_->status(); }

const Counters& Monitor::counters() const { return impl_->counters(); }

void Monitor::close() { impl_->close(); }

}  // namespace dnsd::health
