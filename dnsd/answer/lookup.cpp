#include "dnsd/answer/lookup.hpp"

#include <array>
#include <cstring>

#include "dnsd/wire/name.hpp"

namespace dnsd::answer {

namespace {

// A 255-octet name has at most 127 labels besides the root.
constexpr size_t max_labels = wire::max_name_size / 2;

}  // namespace

Lookup lookup(const zone::Zone& zone, std::string_view name, uint16_t qtype) {
    if (name.size() < zone.apex.size()) return {};
    // Most names asked exist with no cut above them: one probe, and the walk
    // below would come to the same node.
    const zone::Node* exact = zone.find(name);
    if (exact != nullptr && !exact->below_cut) {
        if (exact->delegation && qtype != zone::rrtype::DS) return {Lookup::Kind::delegation, exact};
        return {Lookup::Kind::exact, exact};
    }
    // Label starts of the part of `name` below the apex; [0, labels) only.
    std::array<size_t, max_labels> starts;
    size_t labels = 0;
    const size_t below_size = name.size() - zone.apex.size();
    for (size_t p = 0; p < below_size && labels < max_labels; p += 1 + static_cast<uint8_t>(name[p]))
        starts[labels++] = p;

    const zone::Node* encloser = zone.find(zone.apex);
    if (encloser == nullptr) return {};
    // Down from the apex, one label at a time. Every ancestor of a node is a
    // node (empty non-terminals included), so the first missing name ends the
    // walk and the last one found is the closest encloser.
    for (size_t i = labels; i-- > 0;) {
        const zone::Node* node = i == 0 ? exact : zone.find(name.substr(starts[i]));
        if (node == nullptr) {
            std::array<char, wire::max_name_size> wildcard;  // [0, size) only
            const size_t size = 2 + encloser->name.size();  // shorter than `name`
            wildcard[0] = 1;
            wildcard[1] = '*';
            std::memcpy(wildcard.data() + 2, encloser->name.data(), encloser->name.size());
            const zone::Node* synthesiser = zone.find({wildcard.data(), size});
            if (synthesiser == nullptr) return {};
            return {Lookup::Kind::wildcard, synthesiser};
        }
        if (node->delegation && !(i == 0 && qtype == zone::rrtype::DS))
            return {Lookup::Kind::delegation, node};
        encloser = node;
    }
    return {Lookup::Kind::exact, encloser};
}

}  // namespace dnsd::answer
