#include "dnsd/core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace dnsd::core {

namespace {

// Closes on every path out of write_file_atomically.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    // close(2) can report a write that failed late (NFS, a full disk).
    bool close() { return ::close(std::exchange(fd_, -1)) == 0; }

private:
    int fd_;
};

bool write_all(int fd, std::string_view content) {
    while (!content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        content.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

}  // namespace

bool write_file_atomically(const std::filesystem::path& path, std::string_view content, std::string& error) {
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    // A dot file, so that whoever lists the directory sees what it is for.
    std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    Fd file(::mkostemp(temp.data(), O_CLOEXEC));
    if (file.get() < 0) {
        error = path.string() + ": cannot create a temporary file beside it: " + std::strerror(errno);
        return false;
    }
    auto fail = [&](std::string_view what) {
        error = path.string() + ": cannot " + std::string(what) + ": " + std::strerror(errno);
        ::unlink(temp.c_str());
        return false;
    };
    if (!write_all(file.get(), content)) return fail("write");
    if (::fsync(file.get()) != 0) return fail("flush to disk");
    if (!file.close()) return fail("write");
    if (::rename(temp.c_str(), path.c_str()) != 0) return fail("replace it");
    // The rename is recorded in the directory: flushed, it survives a power
    // cut. The file is in place whatever this says (some file systems cannot
    // flush a directory), so it is not a failure.
    Fd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.get() >= 0) ::fsync(directory.get());
    return true;
}

}  // namespace dnsd::core
