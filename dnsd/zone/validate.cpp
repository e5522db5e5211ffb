// The zone rules that span records and names (SPEC §3): what one field alone
// cannot show.
#include <algorithm>
#include <vector>

#include "dnsd/core/key_index.hpp"
#include "dnsd/wire/name.hpp"
#include "dnsd/zone/name.hpp"
#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {

bool is_address(uint16_t type) { return type == rrtype::A || type == rrtype::AAAA; }

class Validator {
public:
    Validator(const SourceZone& zone, Fields& fields) : zone_(zone), fields_(fields) {}

    void run() {
        const auto& owners = zone_.owners;
        owners_.reserve(owners.size());
        std::vector<bool> repeated(owners.size());
        for (uint32_t i = 0; i < owners.size(); ++i) {
            const uint32_t first = owners_.insert(owners[i].wire, i, wire_of());
            if (first == core::KeyIndex::none) continue;
            repeated[i] = true;
            fields_.error(owners[i].position, "name " + quote(owners[i].text) + " is the same name as " +
                                                  quote(owners[first].text) + " (line " +
                                                  std::to_string(fields_.text().position(owners[first].position).line) +
                                                  "); merge their records");
        }
        for (const auto& pool : zone_.pools) pool_names_.push_back(pool.pool.name);
        for (uint32_t i = 0; i < owners.size(); ++i)
            if (!repeated[i]) check_owner(owners[i]);
        check_apex();
    }

private:
    void check_owner(const SourceOwner& owner) {
        bool apex = owner.wire == zone_.apex;
        if (const int cname = owner.find(rrtype::CNAME); cname >= 0) {
            const json::Offset at = zone_.set_position(owner, static_cast<size_t>(cname));
            if (apex)
                fields_.error(at,
                              "CNAME is not allowed at the zone apex, which holds SOA and NS; use A/AAAA "
                              "records or a pool there instead");
            else if (owner.sets.size() > 1 || owner.has_pool())
                fields_.error(at, "CNAME at " + quote(owner.text) + " is beside other data (" +
                                      other_data(owner, rrtype::CNAME) +
                                      "); a CNAME must be alone at its name: move the other "
                                      "data to another name or remove the CNAME");
        }
        if (owner.has_pool()) check_pool_reference(owner);
        const int ns = owner.find(rrtype::NS);
        if (ns >= 0 && owner.wire.size() > 1 && owner.wire[0] == 1 && owner.wire[1] == '*')
            fields_.error(zone_.set_position(owner, static_cast<size_t>(ns)),
                          "NS at the wildcard name " + quote(owner.text) +
                              " is not allowed; delegate a name without \"*\"");
        if (ns >= 0 && !apex) check_cut(owner);
        check_occluded(owner);
    }

    std::string other_data(const SourceOwner& owner, uint16_t except) {
        std::string list;
        for (const auto& set : owner.sets)
            if (set.type != except) list += (list.empty() ? "" : ", ") + wire::type_name(set.type);
        if (owner.has_pool()) list += (list.empty() ? "" : ", ") + std::string("pool");
        return list;
    }

    const PoolReference& pool_of(const SourceOwner& owner) const {
        return zone_.pool_references[owner.pool_reference];
    }

    void check_pool_reference(const SourceOwner& owner) {
        const PoolReference& reference = pool_of(owner);
        for (uint16_t type : {rrtype::A, rrtype::AAAA})
            if (owner.find(type) >= 0) {
                fields_.error(reference.position,
                              "\"pool\" cannot be beside static A/AAAA records at " + quote(owner.text) +
                                  "; remove \"A\"/\"AAAA\" or the pool");
                break;
            }
        if (reference.pool >= 0) return;
        std::string message = "pool " + quote(reference.name) + " is not defined; define it under \"pools\"";
        if (!pool_names_.empty()) message += suggest(reference.name, pool_names_);
        fields_.error(reference.position, message);
    }

    // At a zone cut only the delegation's NS and address glue belong.
    void check_cut(const SourceOwner& owner) {
        for (size_t i = 0; i < owner.sets.size(); ++i) {
            const uint16_t type = owner.sets[i].type;
            if (type != rrtype::NS && type != rrtype::CNAME && !is_address(type))
                fields_.error(zone_.set_position(owner, i),
                              wire::type_name(type) + " at " + quote(owner.text) +
                                  " is beside the delegation's NS and would never be served; "
                                  "only A/AAAA glue may be there: move it or remove the NS");
        }
        if (owner.has_pool())
            fields_.error(pool_of(owner).position, "\"pool\" at " + quote(owner.text) +
                                                       " is beside the delegation's NS and would never be served; "
                                                       "move it or remove the NS");
    }

    // Below a zone cut the data belongs to the child zone; only glue stays.
    void check_occluded(const SourceOwner& owner) {
        const SourceOwner* cut = nullptr;
        for (std::string_view up = wire::parent(owner.wire); up != zone_.apex && up.size() > 1; up = wire::parent(up)) {
            const SourceOwner* above = find(up);
            if (above && above->find(rrtype::NS) >= 0) cut = above;
        }
        if (!cut) return;
        std::string why = " is below the delegation at " + quote(cut->text) +
                          " and would never be served; only A/AAAA glue may be there: move it out of " +
                          quote(to_text(cut->wire)) + " or remove the delegation";
        for (size_t i = 0; i < owner.sets.size(); ++i)
            if (!is_address(owner.sets[i].type))
                fields_.error(zone_.set_position(owner, i),
                              wire::type_name(owner.sets[i].type) + " at " + quote(owner.text) + why);
        if (owner.has_pool()) fields_.error(pool_of(owner).position, "\"pool\" at " + quote(owner.text) + why);
    }

    void check_apex() {
        const SourceOwner* apex = find(zone_.apex);
        if (apex && apex->find(rrtype::NS) >= 0) return;
        json::Offset at = apex ? apex->position : zone_.records_position;
        fields_.error(at, "missing NS at the zone apex; add \"@\": { \"NS\": [\"ns1\", \"ns2\"] } under \"records\"");
    }

    struct WireOf {
        const std::vector<SourceOwner>& owners;
        std::string_view operator()(uint32_t i) const { return owners[i].wire; }
    };
    WireOf wire_of() const { return {zone_.owners}; }
    // The first owner named `wire`.
    const SourceOwner* find(std::string_view wire) const {
        const uint32_t i = owners_.find(wire, wire_of());
        return i == core::KeyIndex::none ? nullptr : &zone_.owners[i];
    }

    const SourceZone& zone_;
    Fields& fields_;
    core::KeyIndex owners_;  // into zone_.owners, by wire name
    std::vector<std::string_view> pool_names_;
};

}  // namespace

void validate(const SourceZone& zone, Fields& fields) {
    if (zone.apex.empty()) return;
    Validator(zone, fields).run();
}

}  // namespace dnsd::zone
