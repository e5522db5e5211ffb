#include "dnsd/control/registrations.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "dnsd/core/log.hpp"
#include "dnsd/zone/name.hpp"

namespace dnsd::control {

using zone::zone_key;

namespace {

RegistrationResult refused(RuntimeResult result) {
    switch (result) {
        case RuntimeResult::no_such_zone: return RegistrationResult::no_such_zone;
        case RuntimeResult::no_such_pool: return RegistrationResult::no_such_pool;
        default: return RegistrationResult::no_such_region;
    }
}

bool refusal(RuntimeResult result) {
    return result != RuntimeResult::changed && result != RuntimeResult::unchanged;
}

// Why `address` cannot be a pool member, or empty: an answer would send
// clients nowhere, or to the other family's address written in this one's form.
std::string unusable(const core::Address& address) {
    const auto& b = address.bytes;
    if (std::all_of(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(address.size()), [](uint8_t x) { return x == 0; }))
        return "is the unspecified address";
    if (address.family == core::Family::v4) {
        if (b[0] >= 224 && b[0] < 240) return "is a multicast address";
        if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return "is the broadcast address";
        return "";
    }
    if (b[0] == 0xff) return "is a multicast address";
    const bool mapped = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; }) && b[10] == 0xff &&
                        b[11] == 0xff;
    if (mapped)
        return "is an IPv4 address written as IPv6 (the wrong family for an AAAA answer); register " +
               std::to_string(b[12]) + "." + std::to_string(b[13]) + "." + std::to_string(b[14]) + "." +
               std::to_string(b[15]) + " instead";
    return "";
}

constexpr std::string_view request_keys = "lease, region, weight and port";

}  // namespace

std::string_view to_string(RegistrationResult result) {
    switch (result) {
        case RegistrationResult::added: return "added";
        case RegistrationResult::updated: return "updated";
        case RegistrationResult::renewed: return "renewed";
        case RegistrationResult::removed: return "removed";
        case RegistrationResult::no_such_registration: return "no such registration";
        case RegistrationResult::no_such_zone: return "no such zone";
        case RegistrationResult::no_such_pool: return "no such pool";
        case RegistrationResult::no_such_region: return "no such region";
        case RegistrationResult::listed_in_zone: return "listed in the zone file";
    }
    return "?";
}

std::optional<RegistrationRequest> parse_registration_request(std::string_view zone, std::string_view pool,
                                                              std::string_view address_text, std::string_view body,
                                                              std::span<const std::string_view> regions,
                                                              std::string& error) {
    using nlohmann::json;
    RegistrationRequest request;
    Registration& entry = request.registration;
    entry.zone = zone;
    entry.pool = pool;
    const auto address = core::Address::parse(address_text);
    if (!address) {
        error = "not an IP address: " + std::string(address_text);
        return std::nullopt;
    }
    if (const std::string why = unusable(*address); !why.empty()) {
        error = address->to_string() + " cannot be a member: it " + why;
        return std::nullopt;
    }
    entry.address = *address;

    const json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        error = R"(the body is not a JSON object; expected {"lease": 60, "region": "eu", "weight": 1, "port": 8080})";
        return std::nullopt;
    }
    // Integers only: 60.5 or "60" is a mistake worth hearing about.
    auto integer = [&](const char* key, int64_t min, int64_t max) -> std::optional<int64_t> {
        const json& value = doc[key];
        if (!value.is_number_integer() || value.get<int64_t>() < min || value.get<int64_t>() > max ||
            (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max))) {
            error = "\"" + std::string(key) + "\" must be a whole number from " + std::to_string(min) + " to " +
                    std::to_string(max) + ", not " + value.dump(-1, ' ', false, json::error_handler_t::replace);
            return std::nullopt;
        }
        return value.get<int64_t>();
    };
    for (const auto& [key, value] : doc.items())
        if (key != "lease" && key != "region" && key != "weight" && key != "port") {
            error = "unknown key \"" + key + "\"; a registration takes " + std::string(request_keys);
            return std::nullopt;
        }
    if (!doc.contains("lease")) {
        error = "\"lease\" (seconds, 1 to 86400) is required";
        return std::nullopt;
    }
    const auto lease = integer("lease", min_lease_s, max_lease_s);
    if (!lease) return std::nullopt;
    request.lease_s = static_cast<uint32_t>(*lease);
    if (doc.contains("weight")) {
        const auto weight = integer("weight", 0, INT32_MAX);
        if (!weight) return std::nullopt;
        entry.weight = static_cast<uint32_t>(*weight);
    }
    if (doc.contains("port")) {
        const auto port = integer("port", 1, 65535);
        if (!port) return std::nullopt;
        entry.port = static_cast<uint16_t>(*port);
    }
    if (doc.contains("region")) {
        const json& region = doc["region"];
        if (!region.is_string()) {
            error = "\"region\" must be a region's name";
            return std::nullopt;
        }
        entry.region = region.get<std::string>();
        if (std::find(regions.begin(), regions.end(), entry.region) == regions.end()) {
            std::string known;
            for (const auto& name : regions) known += (known.empty() ? "" : ", ") + std::string(name);
            error = "no region \"" + entry.region + "\" in the config" +
                    (known.empty() ? std::string(" (it defines none)") : "; its regions are " + known);
            return std::nullopt;
        }
    }
    return request;
}

RuntimeResult Registrations::publish(const std::string& zone, const std::string& pool) {
    std::vector<RuntimeMember> members;
    for (auto it = entries_.lower_bound({zone, pool, core::Address{}});
         it != entries_.end() && std::get<0>(it->first) == zone && std::get<1>(it->first) == pool; ++it) {
        const Registration& r = it->second;
        members.push_back({r.address, r.region, r.weight, 0, zone::MemberState::automatic, r.port});
    }
    return state_.set_runtime_members(zone, pool, "registration", std::move(members));
}

bool Registrations::listed_in_zone(const Registration& entry) const {
    for (const auto& zone : state_.snapshot()->zones) {
        if (zone->name != entry.zone) continue;
        for (const auto& pool : zone->pools)
            if (pool.name == entry.pool &&
                std::any_of(pool.members.begin(), pool.members.end(),
                            [&](const zone::Member& m) { return m.source == 0 && m.address == entry.address; }))
                return true;
    }
    return false;
}

void Registrations::publish_or_drop(const std::set<std::pair<std::string, std::string>>& pools,
                                    std::vector<std::string>& skipped) {
    for (const auto& [zone, pool] : pools) {
        const RuntimeResult result = publish(zone, pool);
        if (!refusal(result)) continue;
        // Not served: not kept either, so that status shows only what holds.
        size_t dropped = 0;
        for (auto it = entries_.lower_bound({zone, pool, core::Address{}});
             it != entries_.end() && std::get<0>(it->first) == zone && std::get<1>(it->first) == pool;) {
            it = entries_.erase(it);
            ++dropped;
        }
        skipped.push_back(std::to_string(dropped) + " in " + zone + "/" + pool + " (" +
                          std::string(to_string(result)) + ")");
    }
}

RegistrationResult Registrations::put(Registration entry, uint32_t lease_s) {
    entry.zone = zone_key(entry.zone);
    entry.expires_at = std::chrono::ceil<std::chrono::milliseconds>(now_() + std::chrono::seconds(lease_s));
    const Key key{entry.zone, entry.pool, entry.address};
    const auto existing = entries_.find(key);
    if (existing != entries_.end() && existing->second.same_member(entry)) {
        existing->second.expires_at = entry.expires_at;
        ++version_;
        return RegistrationResult::renewed;  // members_version_ stays
    }
    // A member the zone file lists is the file's: a registration would not be one.
    if (listed_in_zone(entry)) return RegistrationResult::listed_in_zone;
    std::optional<Registration> before;
    if (existing != entries_.end()) before = existing->second;
    entries_[key] = entry;
    const RuntimeResult published = publish(entry.zone, entry.pool);
    if (refusal(published)) {
        if (before)
            entries_[key] = *before;
        else
            entries_.erase(key);
        return refused(published);
    }
    ++version_;
    ++members_version_;
    spdlog::info("registrations: {} in {}/{} {} with a lease of {} s", entry.address.to_string(), entry.zone,
                 entry.pool, before ? "updated" : "added", lease_s);
    return before ? RegistrationResult::updated : RegistrationResult::added;
}

RegistrationResult Registrations::remove(std::string_view zone_name, std::string_view pool,
                                         const core::Address& address) {
    const std::string zone = zone_key(zone_name);
    const auto it = entries_.find({zone, std::string(pool), address});
    if (it == entries_.end()) return RegistrationResult::no_such_registration;
    entries_.erase(it);
    ++version_;
    ++members_version_;
    publish(zone, std::string(pool));
    spdlog::info("registrations: {} in {}/{} deregistered: draining", address.to_string(), zone, pool);
    return RegistrationResult::removed;
}

size_t Registrations::expire() {
    const auto now = now_();
    std::set<std::pair<std::string, std::string>> pools;
    size_t expired = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.expires_at > now) {
            ++it;
            continue;
        }
        spdlog::info("registrations: the lease of {} in {}/{} ran out: draining", it->second.address.to_string(),
                     it->second.zone, it->second.pool);
        pools.emplace(it->second.zone, it->second.pool);
        it = entries_.erase(it);
        ++expired;
    }
    if (expired == 0) return 0;
    ++version_;
    ++members_version_;
    for (const auto& [zone, pool] : pools) publish(zone, pool);
    return expired;
}

void Registrations::restore(std::vector<Registration> entries, std::vector<std::string>& skipped) {
    const auto now = now_();
    std::set<std::pair<std::string, std::string>> pools;
    for (Registration& entry : entries) {
        if (entry.expires_at <= now) continue;
        entry.zone = zone_key(entry.zone);
        pools.emplace(entry.zone, entry.pool);
        entries_[{entry.zone, entry.pool, entry.address}] = std::move(entry);
    }
    publish_or_drop(pools, skipped);
    ++version_;
    ++members_version_;
}

void Registrations::adopt(std::vector<Registration> held, const std::vector<Registration>& deleted) {
    const auto now = now_();
    const auto regions = state_.config().region_names();
    std::set<std::pair<std::string, std::string>> pools;
    size_t added = 0, updated = 0, ended = 0, removed = 0;
    bool renewed = false;
    for (Registration& entry : held) {
        entry.zone = zone_key(entry.zone);
        const Key key{entry.zone, entry.pool, entry.address};
        const auto existing = entries_.find(key);
        if (entry.expires_at <= now) {
            if (existing == entries_.end()) continue;
            spdlog::debug("registrations: the lease of {} in {}/{} ran out for the fleet", entry.address.to_string(),
                          entry.zone, entry.pool);
            entries_.erase(existing);
            pools.emplace(entry.zone, entry.pool);
            ++ended;
            continue;
        }
        if (existing != entries_.end() && existing->second.same_member(entry)) {
            renewed = renewed || existing->second.expires_at != entry.expires_at;
            existing->second.expires_at = entry.expires_at;
            continue;
        }
        // A region this node's config lacks would have State refuse the whole pool.
        if (listed_in_zone(entry) ||
            (!entry.region.empty() && std::find(regions.begin(), regions.end(), entry.region) == regions.end())) {
            spdlog::debug("registrations: {} in {}/{} from the fleet not held here", entry.address.to_string(),
                          entry.zone, entry.pool);
            continue;
        }
        ++(existing != entries_.end() ? updated : added);
        pools.emplace(entry.zone, entry.pool);
        entries_[key] = std::move(entry);
    }
    for (const Registration& gone : deleted) {
        const std::string zone = zone_key(gone.zone);
        if (entries_.erase({zone, gone.pool, gone.address}) == 0) continue;
        pools.emplace(zone, gone.pool);
        ++removed;
    }
    if (renewed || !pools.empty()) ++version_;
    if (pools.empty()) return;
    ++members_version_;
    spdlog::info("registrations: through the fleet, {} added, {} updated, {} deregistered and {} ended (draining)",
                 added, updated, removed, ended);
    std::vector<std::string> skipped;
    publish_or_drop(pools, skipped);
    for (const auto& what : skipped) spdlog::debug("registrations: from the fleet, not held here: {}", what);
}

const Registration* Registrations::find(std::string_view zone, std::string_view pool,
                                        const core::Address& address) const {
    const auto it = entries_.find({zone_key(zone), std::string(pool), address});
    return it != entries_.end() ? &it->second : nullptr;
}

std::vector<Registration> Registrations::list() const {
    std::vector<Registration> out;
    out.reserve(entries_.size());
    for (const auto& [key, entry] : entries_) out.push_back(entry);
    return out;
}

}  // namespace dnsd::control
