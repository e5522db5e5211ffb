#include "dnsd/zone/snapshot.hpp"

#include <algorithm>
#include <span>

#include "dnsd/core/hash.hpp"

namespace dnsd::zone {

namespace {

// Names are at most 255 octets, so each fits in a fresh block.
constexpr size_t name_block_size = 64 * 1024;

// Chains one more field into a rotation key; sizes go in too, so that no two
// sequences of fields read alike.
uint64_t chain(uint64_t key, std::span<const uint8_t> bytes) {
    return core::stable_hash(bytes, key ^ bytes.size());
}
uint64_t chain(uint64_t key, std::string_view text) {
    return chain(key, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}
uint64_t chain(uint64_t key, uint64_t number) { return core::mix64(key ^ core::mix64(number)); }

// 0 marks a set that does not rotate.
uint64_t nonzero(uint64_t key) { return key == 0 ? 1 : key; }

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

std::optional<MemberState> member_state(std::string_view text) {
    const auto* it = std::find(member_state_names.begin(), member_state_names.end(), text);
    if (it == member_state_names.end()) return std::nullopt;
    return static_cast<MemberState>(it - member_state_names.begin());
}

void Zone::key_rotations() {
    rotation_keys.clear();
    const uint64_t zone_key = chain(0, apex);
    for (Node& node : nodes) {
        for (RRset& rrset : node.rrsets) {
            rrset.rotation_key = 0;
            if (rrset.rdatas.size() < 2) continue;
            uint64_t key = chain(chain(zone_key, node.name), rrset.type);
            for (const Rdata& rdata : rrset.rdatas) key = chain(key, rdata.wire);
            rrset.rotation_key = nonzero(key);
            rotation_keys.push_back(rrset.rotation_key);
        }
    }
    // Pool names are not names in the zone: a prefix keeps them apart from owners.
    const uint64_t pools_key = chain(zone_key, std::string_view("pools"));
    for (Pool& pool : pools) {
        for (const core::Family family : {core::Family::v4, core::Family::v6}) {
            uint64_t key = chain(chain(pools_key, pool.name), static_cast<uint64_t>(family));
            for (uint32_t m : family == core::Family::v4 ? pool.v4 : pool.v6) {
                const core::Address& address = pool.members[m].address;
                key = chain(key, {address.bytes.data(), address.size()});
            }
            pool.rotation_keys[family == core::Family::v6] = nonzero(key);
            rotation_keys.push_back(nonzero(key));
        }
    }
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
