// The zone rules that span records and names (SPEC §3): what one field alone
// cannot show.
#include <algorithm>
#include <unordered_map>

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
        for (const auto& owner : zone_.owners) {
            auto [it, fresh] = owners_.try_emplace(owner.wire, &owner);
            if (!fresh) {
                fields_.error(owner.position, "name " + quote(owner.text) + " is the same name as " +
                                                  quote(it->second->text) + " (line " +
                                                  std::to_string(it->second->position.line) +
                                                  "); merge their records");
                continue;
            }
        }
        for (const auto& pool : zone_.pools) pool_names_.push_back(pool.pool.name);
        for (const auto& [wire, owner] : owners_) check_owner(*owner);
        check_apex();
    }

private:
    void check_owner(const SourceOwner& owner) {
        bool apex = owner.wire == zone_.apex;
        if (const SourceSet* cname = owner.find(rrtype::CNAME)) {
            if (apex)
                fields_.error(cname->position,
                              "CNAME is not allowed at the zone apex, which holds SOA and NS; use A/AAAA "
                              "records or a pool there instead");
            else if (owner.sets.size() > 1 || owner.pool)
                fields_.error(cname->position, "CNAME at " + quote(owner.text) + " is beside other data (" +
                                                   other_data(owner, rrtype::CNAME) +
                                                   "); a CNAME must be alone at its name: move the other "
                                                   "data to another name or remove the CNAME");
        }
        if (owner.pool) check_pool_reference(owner);
        const SourceSet* ns = owner.find(rrtype::NS);
        if (ns && owner.wire.size() > 1 && owner.wire[0] == 1 && owner.wire[1] == '*')
            fields_.error(ns->position, "NS at the wildcard name " + quote(owner.text) +
                                            " is not allowed; delegate a name without \"*\"");
        if (ns && !apex) check_cut(owner);
        check_occluded(owner);
    }

    std::string other_data(const SourceOwner& owner, uint16_t except) {
        std::string list;
        for (const auto& set : owner.sets)
            if (set.type != except) list += (list.empty() ? "" : ", ") + std::string(rdata::type_name(set.type));
        if (owner.pool) list += (list.empty() ? "" : ", ") + std::string("pool");
        return list;
    }

    void check_pool_reference(const SourceOwner& owner) {
        for (uint16_t type : {rrtype::A, rrtype::AAAA})
            if (owner.find(type)) {
                fields_.error(owner.pool_position,
                              "\"pool\" cannot be beside static A/AAAA records at " + quote(owner.text) +
                                  "; remove \"A\"/\"AAAA\" or the pool");
                break;
            }
        if (std::find(pool_names_.begin(), pool_names_.end(), *owner.pool) != pool_names_.end()) return;
        std::string message = "pool " + quote(*owner.pool) + " is not defined; define it under \"pools\"";
        if (!pool_names_.empty()) message += suggest(*owner.pool, pool_names_);
        fields_.error(owner.pool_position, message);
    }

    // At a zone cut only the delegation's NS and address glue belong.
    void check_cut(const SourceOwner& owner) {
        for (const auto& set : owner.sets)
            if (set.type != rrtype::NS && set.type != rrtype::CNAME && !is_address(set.type))
                fields_.error(set.position, std::string(rdata::type_name(set.type)) + " at " + quote(owner.text) +
                                                " is beside the delegation's NS and would never be served; "
                                                "only A/AAAA glue may be there: move it or remove the NS");
        if (owner.pool)
            fields_.error(owner.pool_position, "\"pool\" at " + quote(owner.text) +
                                                   " is beside the delegation's NS and would never be served; "
                                                   "move it or remove the NS");
    }

    // Below a zone cut the data belongs to the child zone; only glue stays.
    void check_occluded(const SourceOwner& owner) {
        const SourceOwner* cut = nullptr;
        for (std::string_view up = wire::parent(owner.wire); up != zone_.apex && up.size() > 1; up = wire::parent(up)) {
            auto it = owners_.find(std::string(up));
            if (it != owners_.end() && it->second->find(rrtype::NS)) cut = it->second;
        }
        if (!cut) return;
        std::string why = " is below the delegation at " + quote(cut->text) +
                          " and would never be served; only A/AAAA glue may be there: move it out of " +
                          quote(to_text(cut->wire)) + " or remove the delegation";
        for (const auto& set : owner.sets)
            if (!is_address(set.type))
                fields_.error(set.position, std::string(rdata::type_name(set.type)) + " at " + quote(owner.text) + why);
        if (owner.pool) fields_.error(owner.pool_position, "\"pool\" at " + quote(owner.text) + why);
    }

    void check_apex() {
        auto it = owners_.find(zone_.apex);
        if (it != owners_.end() && it->second->find(rrtype::NS)) return;
        json::Position at = it != owners_.end() ? it->second->position : zone_.records_position;
        fields_.error(at, "missing NS at the zone apex; add \"@\": { \"NS\": [\"ns1\", \"ns2\"] } under \"records\"");
    }

    const SourceZone& zone_;
    Fields& fields_;
    std::unordered_map<std::string, const SourceOwner*> owners_;
    std::vector<std::string_view> pool_names_;
};

}  // namespace

void validate(const SourceZone& zone, Fields& fields) {
    if (zone.apex.empty()) return;
    Validator(zone, fields).run();
}

}  // namespace dnsd::zone
