#pragma once
// Ownership of a libuv handle whose memory must outlive its owner: libuv uses
// a handle, and calls its pending requests back with UV_ECANCELED, until the
// close callback runs. A UvHandle keeps the handle, the requests it needs and
// a pointer back to the owner in one heap block that only the close callback
// frees. Closing clears the back pointer first, so a callback that comes late
// finds no owner and returns.
#include <uv.h>

namespace dnsd::core {

struct NoRequests {};

template <class Handle, class Owner, class Requests = NoRequests>
class UvHandle {
public:
    // `init` initialises the handle on a loop (e.g. uv_timer_init with the
    // loop bound); when it fails the UvHandle is empty and nothing is opened.
    template <class Init>
    UvHandle(Owner* owner, Init init) : block_(new Block) {
        if (init(&block_->handle) != 0) {
            delete block_;
            block_ = nullptr;
            return;
        }
        block_->handle.data = block_;
        block_->owner = owner;
    }
    UvHandle(const UvHandle&) = delete;
    UvHandle& operator=(const UvHandle&) = delete;
    ~UvHandle() { close(); }

    // False when init failed or after close().
    explicit operator bool() const { return block_ != nullptr; }
    Handle* get() const { return &block_->handle; }
    Requests& requests() const { return block_->requests; }

    void close() {
        if (block_ == nullptr) return;
        block_->owner = nullptr;
        uv_close(reinterpret_cast<uv_handle_t*>(&block_->handle),
                 [](uv_handle_t* handle) { delete static_cast<Block*>(handle->data); });
        block_ = nullptr;
    }

    // The owner of the handle a callback came from; nullptr once it closed.
    template <class AnyHandle>
    static Owner* owner_of(const AnyHandle* handle) {
        return static_cast<const Block*>(handle->data)->owner;
    }

private:
    struct Block {
        Handle handle{};
        Requests requests{};
        Owner* owner = nullptr;
    };
    Block* block_;
};

}  // namespace dnsd::core
