#include "dnsd/zone/snapshot.hpp"

#include <algorithm>

namespace dnsd::zone {

namespace {

// Names are at most 255 octets, so each fits in a fresh block.
constexpr size_t name_block_size = 64 * 1024;

}  // namespace

Node& Zone::node_at(std::string_view wire_name) {
    // Indexed under the next position before it exists: the index reads only
    // the names of nodes that do.
    const uint32_t existing = index_.insert(wire_name, static_cast<uint32_t>(nodes.size()),
                                            [this](uint32_t n) { return nodes[n].name; });
    if (existing != core::KeyIndex::none) return nodes[existing];
    if (name_blocks_.empty() || name_block_size - name_block_used_ < wire_name.size()) {
        name_blocks_.push_back(std::make_unique_for_overwrite<char[]>(std::max(name_block_size, wire_name.size())));
        name_block_used_ = 0;
    }
    char* bytes = name_blocks_.back().get() + name_block_used_;
    std::copy(wire_name.begin(), wire_name.end(), bytes);
    name_block_used_ += wire_name.size();
    Node& node = nodes.emplace_back();
    node.name = {bytes, wire_name.size()};
    return node;
}

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
