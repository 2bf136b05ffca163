// SHA-256 of a file range and, in the same read, the RFC 9162 leaf hashes H(0x00 ‖ leaf bytes) of
// the fixed-size Merkle leaves inside it (the Merkle companion of `sign --merkle`, docs/companion.md).
//
// The range's digest is one serial SHA-256 stream; each leaf hash is another stream over the same
// bytes, one byte behind (the 0x00 prefix). Both run as two lanes of the family's 2-lane kernel
// (shani-x2, armv8-sha2-x2) over each block of the range while it is in L2, so the leaves cost a
// second lane of the SHA unit, not a second read. Families without a 2-lane kernel (scalar, the
// 8/16-lane vector ones, whose lone lane is SHA-NI anyway) run the two lanes one after the other.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sha256_impl.h"
#include "sha256_lanes.h"

namespace modelseal {
namespace sha256 {

// One range and the Merkle leaves it carries: leaves leaf_first .. leaf_first + leaf_count - 1 of
// size leaf_bytes (leaf i = [i * leaf_bytes, min((i + 1) * leaf_bytes, range end))), each inside the
// range. The caller decides which leaves are whole (a leaf cut by the range end must end the file).
struct MerkleRange {
  FileLeaf range;
  uint64_t leaf_first;
  uint64_t leaf_count;
};

// digests: 32 bytes per range; leaf_hashes: 32 bytes per leaf, ranges in order. Reads each range
// once with pread into a reused page-aligned buffer of read_bytes (pieces never cross a leaf edge).
// Throws modelseal::IoError (native/io.h) like hash_file_leaves, and std::invalid_argument for a
// leaf outside its range.
void hash_ranges_with_leaves(const Kernel& k, const MerkleRange* ranges, size_t n, uint64_t leaf_bytes,
                             uint8_t* digests, uint8_t* leaf_hashes, size_t read_bytes);

// The same over bytes in memory (tests of the lane pairing against the plain hashes).
void hash_bytes_with_leaves(const Kernel& k, const uint8_t* data, size_t length, uint64_t leaf_bytes,
                            uint8_t* digest, uint8_t* leaf_hashes);


// Two SHA-256 messages fed piece by piece in lockstep: the whole blocks both have ready run on the
// family's 2-lane kernel (shani-x2, armv8-sha2-x2), the rest of either on its one-lane kernel. For
// verified reads (native/verified_units_napi.cc), which hash two leaves read into memory side by
// side while they are still in L2. Either message may be empty or absent (length 0 pieces).
class MessagePair {
 public:
  explicit MessagePair(const Kernel& k);
  // Starts message `lane` (0 or 1); `rfc9162_leaf`: the message begins with the byte 0x00.
  void start(int lane, bool rfc9162_leaf);
  // Appends a[0, na) to message 0 and b[0, nb) to message 1.
  void feed(const uint8_t* a, size_t na, const uint8_t* b, size_t nb);
  // The same, and stores a[0, na) to da and b[0, nb) to db (either null when its length is 0). With
  // the family's copy-out kernels (fuses_copy()) the stores ride on the hash's own loads; otherwise
  // the bytes are copied first and the copy is hashed. Either way the digests are of the bytes
  // stored, and a and b are read once (a mapping of a file being rewritten cannot split the two).
  void feed_copy(const uint8_t* a, size_t na, uint8_t* da, const uint8_t* b, size_t nb, uint8_t* db);
  // Whether this kernel family has copy-out kernels (CopyFn, sha256_impl.h) for the widths used here.
  bool fuses_copy() const;
  // The 32-byte digest of message `lane` (padding and length; the lane must be started again to reuse it).
  void finish(int lane, uint8_t out[32]);

 private:
  struct State {
    alignas(16) uint32_t state[8];
    alignas(16) uint8_t carry[128];
    size_t r;
    uint64_t total;
  };
  void feed_impl(const uint8_t* a, size_t na, uint8_t* da, const uint8_t* b, size_t nb, uint8_t* db);
  MultiFn x1_;
  MultiFn x2_;
  CopyFn x1c_;
  CopyFn x2c_;
  State s_[2];
};

}  // namespace sha256
}  // namespace modelseal
