#include "dnsd/core/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace dnsd::core {

std::optional<Address> Address::parse(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    Address a;
    if (text.find(':') == std::string_view::npos) {
        a.family = Family::v4;
        if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
    } else {
        a.family = Family::v6;
        if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
    }
    return a;
}

Address Address::from_sockaddr(const sockaddr* sa) {
    Address a;
    if (sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        std::memcpy(a.bytes.data(), &in->sin_addr, 4);
        return a;
    }
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    const uint8_t* b = reinterpret_cast<const uint8_t*>(&in6->sin6_addr);
    static constexpr uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, v4_mapped, 12) == 0) {
        std::memcpy(a.bytes.data(), b + 12, 4);
        return a;
    }
    a.family = Family::v6;
    std::memcpy(a.bytes.data(), b, 16);
    return a;
}

std::string Address::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(family == Family::v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

Address Address::masked(unsigned prefix) const {
    Address a = *this;
    for (unsigned i = 0; i < 16; ++i) {
        unsigned bit = i * 8;
        if (bit >= prefix)
            a.bytes[i] = 0;
        else if (prefix - bit < 8)
            a.bytes[i] &= static_cast<uint8_t>(0xff << (8 - (prefix - bit)));
    }
    return a;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        if (host.find(':') == std::string_view::npos) return std::nullopt;
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
    }
    auto addr = Address::parse(host);
    if (!addr) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535)
        return std::nullopt;
    return Endpoint{*addr, static_cast<uint16_t>(value)};
}

std::string Endpoint::to_string() const {
    if (address.family == Family::v6) return "[" + address.to_string() + "]:" + std::to_string(port);
    return address.to_string() + ":" + std::to_string(port);
}

unsigned Endpoint::to_sockaddr(sockaddr_storage& out) const {
    out = {};
    if (address.family == Family::v4) {
        auto* in = reinterpret_cast<sockaddr_in*>(&out);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        std::memcpy(&in->sin_addr, address.bytes.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, address.bytes.data(), 16);
    return sizeof(sockaddr_in6);
}

}  // namespace dnsd::core
