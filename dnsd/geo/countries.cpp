#include "dnsd/geo/countries.hpp"

#include <algorithm>

namespace dnsd::geo {

const Country* find_country(std::string_view code) {
    auto table = countries();
    auto it = std::lower_bound(table.begin(), table.end(), code,
                               [](const Country& c, std::string_view key) { return c.code < key; });
    return it != table.end() && it->code == code ? &*it : nullptr;
}

}  // namespace dnsd::geo
