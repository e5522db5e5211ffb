#pragma once
// Bounds-checked cursors over wire data. Both keep NSD's buffer invariant,
// position <= limit <= capacity: every read or write checks what remains
// before touching a byte, and a failed one changes nothing, so the caller can
// turn "does not fit" into FORMERR (reading) or truncation (writing).
#include <cstdint>
#include <cstring>
#include <span>

namespace dnsd::wire {

class Reader {
public:
    explicit Reader(std::span<const uint8_t> data) : data_(data.data()), limit_(data.size()) {}

    size_t position() const { return position_; }
    size_t limit() const { return limit_; }
    size_t remaining() const { return limit_ - position_; }
    const uint8_t* data() const { return data_; }

    // Moves to `position`; false (and no move) past the limit.
    bool seek(size_t position) {
        if (position > limit_) return false;
        position_ = position;
        return true;
    }
    bool skip(size_t count) {
        if (count > remaining()) return false;
        position_ += count;
        return true;
    }
    bool u8(uint8_t& value) {
        if (remaining() < 1) return false;
        value = data_[position_++];
        return true;
    }
    bool u16(uint16_t& value) {
        if (remaining() < 2) return false;
        value = static_cast<uint16_t>(data_[position_] << 8 | data_[position_ + 1]);
        position_ += 2;
        return true;
    }
    bool u32(uint32_t& value) {
        if (remaining() < 4) return false;
        value = uint32_t{data_[position_]} << 24 | uint32_t{data_[position_ + 1]} << 16 |
                uint32_t{data_[position_ + 2]} << 8 | uint32_t{data_[position_ + 3]};
        position_ += 4;
        return true;
    }
    // Points `bytes` at the next `count` bytes and moves past them.
    bool span(size_t count, std::span<const uint8_t>& bytes) {
        if (count > remaining()) return false;
        bytes = {data_ + position_, count};
        position_ += count;
        return true;
    }

private:
    const uint8_t* data_;
    size_t position_ = 0;
    size_t limit_;
};

class Writer {
public:
    explicit Writer(std::span<uint8_t> storage)
        : data_(storage.data()), limit_(storage.size()), capacity_(storage.size()) {}

    size_t position() const { return position_; }
    size_t limit() const { return limit_; }
    size_t capacity() const { return capacity_; }
    size_t remaining() const { return limit_ - position_; }
    const uint8_t* data() const { return data_; }

    // Clamped to [position, capacity] so the invariant holds whatever the caller asks.
    void set_limit(size_t limit) {
        limit_ = limit > capacity_ ? capacity_ : limit < position_ ? position_ : limit;
    }
    // Forgets everything written after `position` (no effect when moving forward).
    void rewind(size_t position) {
        if (position < position_) position_ = position;
    }

    bool u8(uint8_t value) {
        if (remaining() < 1) return false;
        data_[position_++] = value;
        return true;
    }
    bool u16(uint16_t value) {
        if (remaining() < 2) return false;
        data_[position_] = static_cast<uint8_t>(value >> 8);
        data_[position_ + 1] = static_cast<uint8_t>(value);
        position_ += 2;
        return true;
    }
    bool u32(uint32_t value) {
        if (remaining() < 4) return false;
        for (int i = 0; i < 4; ++i) data_[position_ + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
        position_ += 4;
        return true;
    }
    bool bytes(std::span<const uint8_t> bytes) {
        if (bytes.size() > remaining()) return false;
        if (!bytes.empty()) std::memcpy(data_ + position_, bytes.data(), bytes.size());
        position_ += bytes.size();
        return true;
    }
    // Moves past `count` octets for the caller to fill in: one bounds check
    // for a run of fields. Null, and no move, past the limit.
    uint8_t* claim(size_t count) {
        if (count > remaining()) return nullptr;
        uint8_t* start = data_ + position_;
        position_ += count;
        return start;
    }
    // Overwrites two bytes already written (counts, RDLENGTH).
    bool patch_u16(size_t offset, uint16_t value) {
        if (offset + 2 > position_) return false;
        data_[offset] = static_cast<uint8_t>(value >> 8);
        data_[offset + 1] = static_cast<uint8_t>(value);
        return true;
    }

private:
    uint8_t* data_;
    size_t position_ = 0;
    size_t limit_;
    size_t capacity_;
};

// Filling in octets claimed from a Writer (Writer::claim): each returns where
// the next field goes.
inline uint8_t* put_u8(uint8_t* out, uint8_t value) {
    *out = value;
    return out + 1;
}
inline uint8_t* put_u16(uint8_t* out, uint16_t value) {
    out[0] = static_cast<uint8_t>(value >> 8);
    out[1] = static_cast<uint8_t>(value);
    return out + 2;
}
inline uint8_t* put_u32(uint8_t* out, uint32_t value) {
    return put_u16(put_u16(out, static_cast<uint16_t>(value >> 16)), static_cast<uint16_t>(value));
}
inline uint8_t* put_bytes(uint8_t* out, std::span<const uint8_t> bytes) {
    if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
    return out + bytes.size();
}

}  // namespace dnsd::wire
