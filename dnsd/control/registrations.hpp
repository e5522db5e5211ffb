#pragma once
// Registrations with leases (SPEC §11): an instance announces itself with
// PUT /v1/zones/Z/pools/P/registrations/ADDRESS {"lease": 60, ...} and is a
// member of the pool until its lease runs out or it is deleted, then drains
// like any member taken out. Each pool's registrations reach the pool through
// State::set_runtime_members (source "registration"), once per change of the
// pool's registered members: a renewal that changes only the expiry is
// recorded here and publishes nothing.
//
// The clock is given, so that the lease rules are tested without waiting.
// Lives on the control loop: not thread-safe by design.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "dnsd/control/state.hpp"
#include "dnsd/core/address.hpp"
#include "dnsd/fleet/records.hpp"

namespace dnsd::control {

using SystemClock = std::chrono::system_clock;

inline constexpr uint32_t min_lease_s = 1;
inline constexpr uint32_t max_lease_s = 86400;

using fleet::Registration;

// What a PUT or DELETE did.
enum class RegistrationResult : uint8_t {
    added,      // a new member of the pool (published)
    updated,    // its region, weight or port changed (published)
    renewed,    // only its expiry moved (nothing published)
    removed,    // gone from the pool, draining (published)
    no_such_registration,
    no_such_zone,
    no_such_pool,
    no_such_region,
    listed_in_zone,  // the zone file lists the address in the pool already
};

std::string_view to_string(RegistrationResult result);  // "added", "renewed", ...

// A PUT's request: the registration (no expiry yet) and its lease.
struct RegistrationRequest {
    Registration registration;
    uint32_t lease_s = 0;
};

// Reads a PUT .../registrations/ADDRESS: `address_text` from the path and
// `body`, {"lease": 1..86400, "region": "eu", "weight": 1, "port": 8080}
// (lease required). Nullopt, and why in `error` (one line naming the field),
// for an address that cannot be a member (not an address, unspecified,
// multicast or broadcast, or an IPv4 address written as IPv6), a body that is
// not that object, a lease out of range, or a region `regions` lacks. Any
// bytes at all may be given.
std::optional<RegistrationRequest> parse_registration_request(std::string_view zone, std::string_view pool,
                                                              std::string_view address_text, std::string_view body,
                                                              std::span<const std::string_view> regions,
                                                              std::string& error);

class Registrations {
public:
    using Clock = std::function<SystemClock::time_point()>;

    explicit Registrations(State& state, Clock now = [] { return SystemClock::now(); })
        : state_(state), now_(std::move(now)) {}
    Registrations(const Registrations&) = delete;
    Registrations& operator=(const Registrations&) = delete;

    // Adds or renews `entry` (its expiry from now and `lease_s`, which the
    // caller has checked is within [min_lease_s, max_lease_s], to the
    // millisecond, as the fleet spells it).
    RegistrationResult put(Registration entry, uint32_t lease_s);
    // Ends the registration at once: the member leaves the pool and drains.
    RegistrationResult remove(std::string_view zone, std::string_view pool, const core::Address& address);
    // Ends every lease that has run out; returns how many.
    size_t expire();
    // The registrations kept from before a restart: those whose lease still
    // runs join their pools (one publish per pool); `skipped` says why the
    // others that were not expired did not (a zone or pool that is gone).
    void restore(std::vector<Registration> entries, std::vector<std::string>& skipped);
    // What the fleet holds (SPEC §13): `held` as given, lease ends included
    // (one whose end has passed ends here too), and `deleted` ended; one
    // publish per pool changed. One this node cannot hold (its zone, pool or
    // region is not here, or its zone file lists the address) is skipped.
    void adopt(std::vector<Registration> held, const std::vector<Registration>& deleted);

    // Every registration, by zone, pool and address: what status shows and
    // what the state file keeps.
    std::vector<Registration> list() const;
    // The registration of `address` in `zone`/`pool`; null when there is none.
    const Registration* find(std::string_view zone, std::string_view pool, const core::Address& address) const;
    size_t size() const { return entries_.size(); }
    // Bumped by every change, renewals included: the saver's cue.
    uint64_t version() const { return version_; }
    // Bumped by the changes that are more than a lease's new end.
    uint64_t members_version() const { return members_version_; }

private:
    using Key = std::tuple<std::string, std::string, core::Address>;

    // Hands the pool's registered members to State; the result of that.
    RuntimeResult publish(const std::string& zone, const std::string& pool);
    // Publishes each of `pools`; a pool refused (gone) loses its
    // registrations, each such pool a line in `skipped`.
    void publish_or_drop(const std::set<std::pair<std::string, std::string>>& pools, std::vector<std::string>& skipped);
    // The zone file lists `entry`'s address in its pool: not a registration's to add.
    bool listed_in_zone(const Registration& entry) const;

    State& state_;
    Clock now_;
    std::map<Key, Registration> entries_;
    uint64_t version_ = 0;
    uint64_t members_version_ = 0;
};

}  // namespace dnsd::control
