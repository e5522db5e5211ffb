#include "dnsd/zone/snapshot.hpp"

namespace dnsd::zone {

const Zone* Snapshot::find_zone(std::string_view wire_name) const {
    // Walk the name's suffixes from longest to shortest; the first that is an
    // apex wins. Zones are few, so a linear scan per suffix beats a map.
    size_t pos = 0;
    while (pos < wire_name.size()) {
        std::string_view suffix = wire_name.substr(pos);
        for (const auto& zone : zones)
            if (zone->apex == suffix) return zone.get();
        uint8_t len = static_cast<uint8_t>(wire_name[pos]);
        if (len == 0) break;
        pos += 1 + len;
    }
    return nullptr;
}

}  // namespace dnsd::zone
