#include "dnsd/zone/snapshot.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>

#include "dnsd/core/hash.hpp"
#include "dnsd/wire/name.hpp"

namespace dnsd::zone {

namespace {

// Name storage grows by doubling blocks, from one that holds a small zone's
// names to 64 KB: a zone of four names must not take 64 KB (20,000 of them
// were 1.3 GB of heap per reload), nor a zone of a million names 100,000
// blocks. Names are at most 255 octets, so each fits in a fresh block.
constexpr size_t first_name_block_size = 256;
constexpr size_t last_name_block_size = 64 * 1024;

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

NameTree& Zone::building_tree() {
    if (tree_.use_count() != 1) throw std::logic_error("zone " + name + ": its names are shared and cannot change");
    return *tree_;
}

Node& NameTree::node_at(std::string_view wire_name) {
    // Indexed under the next position before it exists: the index reads only
    // the names of nodes that do.
    const uint32_t existing = index_.insert(wire_name, static_cast<uint32_t>(nodes.size()),
                                            [this](uint32_t n) { return nodes[n].name; });
    if (existing != core::KeyIndex::none) return nodes[existing];
    if (name_blocks_.empty() || name_block_size_ - name_block_used_ < wire_name.size()) {
        name_block_size_ = name_blocks_.empty() ? first_name_block_size
                                                : std::min(2 * name_block_size_, last_name_block_size);
        name_blocks_.push_back(std::make_unique_for_overwrite<char[]>(name_block_size_));
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

void Pool::index_weights() {
    const auto weight_of = [](const Member& m) { return std::max<uint32_t>(m.weight, 1); };
    weights_alike = std::all_of(members.begin(), members.end(),
                                [&](const Member& m) { return weight_of(m) == weight_of(members.front()); });
    for (size_t f = 0; f < 2; ++f) {
        auto& tiers = region_tiers[f];
        tiers.clear();
        if (policy != Policy::weighted && policy != Policy::sticky) continue;
        const auto& family = f == 0 ? v4 : v6;
        std::vector<int32_t> regions{-1};
        for (const uint32_t m : family)
            if (members[m].region >= 0 && std::find(regions.begin(), regions.end(), members[m].region) == regions.end())
                regions.push_back(members[m].region);
        for (const int32_t region : regions) {
            RegionTier& tier = tiers.emplace_back();
            tier.region = region;
            uint64_t sum = 0;
            for (const uint32_t m : family) {
                if (region >= 0 && members[m].region >= 0 && members[m].region != region) continue;
                sum += members[m].weight;
                tier.drawable += members[m].weight > 0;
                tier.members.push_back(m);
                tier.cumulative.push_back(sum);
            }
        }
    }
}

void Zone::finish() {
    mark_cuts();
    key_rotations();
}

void Zone::mark_cuts() {
    NameTree& tree = building_tree();
    const bool has_cuts = std::any_of(tree.nodes.begin(), tree.nodes.end(), [](const Node& n) { return n.delegation; });
    for (Node& node : tree.nodes) {
        node.below_cut = false;
        if (!has_cuts) continue;
        // Every name between a node and the apex is a node.
        for (std::string_view up = wire::parent(node.name); up.size() > apex.size() && !node.below_cut;
             up = wire::parent(up)) {
            const Node* ancestor = tree.find(up);
            node.below_cut = ancestor != nullptr && ancestor->delegation;
        }
    }
}

void Zone::key_rotations() {
    NameTree& tree = building_tree();
    tree.rotation_keys.clear();
    const uint64_t zone_key = chain(0, apex);
    for (Node& node : tree.nodes) {
        for (RRset& rrset : node.rrsets) {
            rrset.rotation_key = 0;
            if (rrset.rdatas.size() < 2) continue;
            uint64_t key = chain(chain(zone_key, node.name), rrset.type);
            for (const Rdata& rdata : rrset.rdatas) key = chain(key, rdata.wire);
            rrset.rotation_key = nonzero(key);
            tree.rotation_keys.push_back(rrset.rotation_key);
        }
    }
    key_pool_rotations();
}

void Zone::key_pool_rotations() {
    rotation_keys.clear();
    // Pool names are not names in the zone: a prefix keeps them apart from owners.
    const uint64_t pools_key = chain(chain(0, apex), std::string_view("pools"));
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

namespace {

size_t max_pool_members_of(const std::vector<std::shared_ptr<const Zone>>& zones) {
    size_t most = 0;
    for (const auto& zone : zones) most = std::max(most, zone->max_pool_members);
    return most;
}

size_t rotation_sets_of(const std::vector<std::shared_ptr<const Zone>>& zones) {
    size_t sets = 0;
    for (const auto& zone : zones) sets += zone->names().rotation_keys.size() + zone->rotation_keys.size();
    return sets;
}

size_t label_count(std::string_view wire_name) {
    size_t labels = 0;
    for (size_t p = 0; p < wire_name.size() && wire_name[p] != 0; p += 1 + static_cast<uint8_t>(wire_name[p]))
        ++labels;
    return labels;
}

}  // namespace

Snapshot::Snapshot(std::vector<std::shared_ptr<const Zone>> zones_in)
    : zones(std::move(zones_in)), max_pool_members(max_pool_members_of(zones)), rotation_sets(rotation_sets_of(zones)) {
    by_apex_.reserve(zones.size());
    for (size_t i = 0; i < zones.size(); ++i) {
        by_apex_.insert(zones[i]->apex, static_cast<uint32_t>(i), [this](uint32_t z) { return zones[z]->apex; });
        const size_t depth = label_count(zones[i]->apex);
        apex_depths_[depth / 64] |= uint64_t{1} << (depth % 64);
    }
}

const Zone* Snapshot::zone_at(std::string_view apex) const {
    const uint32_t i = by_apex_.find(apex, [this](uint32_t z) { return zones[z]->apex; });
    return i == core::KeyIndex::none ? nullptr : zones[i].get();
}

const Zone* Snapshot::find_zone(std::string_view wire_name) const {
    if (wire_name.empty()) return nullptr;
    // Where each suffix starts, by its label count: suffix n is the last n
    // labels. A name of 255 octets has at most 127 labels besides the root.
    std::array<uint8_t, 128> suffix_at;  // [0, labels) only
    size_t labels = 0;
    for (size_t p = 0; p < wire_name.size() && wire_name[p] != 0 && labels < suffix_at.size();
         p += 1 + static_cast<uint8_t>(wire_name[p]))
        suffix_at[labels++] = static_cast<uint8_t>(p);
    // suffix_at[labels - n] is where suffix n begins; suffix 0 is the root.
    for (size_t n = labels + 1; n-- > 0;) {
        if ((apex_depths_[n / 64] >> (n % 64) & 1) == 0) continue;
        const size_t start = n == 0 ? wire_name.size() - 1 : suffix_at[labels - n];
        if (const Zone* zone = zone_at(wire_name.substr(start))) return zone;
    }
    return nullptr;
}

}  // namespace dnsd::zone
