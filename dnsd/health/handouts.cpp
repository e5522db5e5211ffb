#include "dnsd/health/handouts.hpp"

namespace dnsd::health {

Handouts::Slot& Handouts::slot(std::string_view zone, std::string_view pool, const core::Address& address) {
    // Zone and pool names hold no NUL byte; the address's bytes end the key.
    std::string key;
    key.reserve(zone.size() + pool.size() + 2 + address.size());
    key.append(zone).push_back('\0');
    key.append(pool).push_back('\0');
    key.append(reinterpret_cast<const char*>(address.bytes.data()), address.size());
    auto [it, added] = by_member_.try_emplace(std::move(key), nullptr);
    if (added) it->second = &slots_.emplace_back(0);
    return *it->second;
}

}  // namespace dnsd::health
