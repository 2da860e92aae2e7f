package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.PersistentLoader;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.StorageRef;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * torch.save's legacy format (torch &lt;= 1.5, and {@code _use_new_zipfile_serialization=False}):
 * five pickles back to back — the magic number, the protocol version, sys_info, the object, the
 * list of storage keys — then, for each key in that order, the storage's element count as a
 * little-endian int64 and its raw bytes.
 */
final class LegacyReader {
  /** torch.serialization.MAGIC_NUMBER. */
  static final BigInteger MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);
  /** torch.serialization.PROTOCOL_VERSION. */
  static final long PROTOCOL_VERSION = 1001;
  /** Bytes of a storage record's header: numel as int64. */
  private static final int STORAGE_HEADER_BYTES = Long.BYTES;
  /** The pickles must lie in the first 2 GiB (one mapped buffer). */
  private static final long MAX_PICKLE_REGION = Integer.MAX_VALUE;
  private static final String MODULE_TAG = "module";

  private LegacyReader() {}

  /** True when {@code head} starts with a pickle of the legacy magic number. */
  static boolean looksLegacy(ByteBuffer head, String where) {
    try {
      return MAGIC_NUMBER.equals(asBig(Pickles.load(head.duplicate(), GlobalResolver.refuseAll(),
          null, where)));
    } catch (CheckpointException e) {
      return false;
    }
  }

  static Loaded read(Path file, FileChannel channel, GlobalResolver resolver)
      throws CheckpointException {
    String where = file.toString();
    try {
      long size = channel.size();
      MappedByteBuffer buf = channel.map(FileChannel.MapMode.READ_ONLY, 0,
          Math.min(size, MAX_PICKLE_REGION));
      Object magic = Pickles.load(buf, GlobalResolver.refuseAll(), null, where + " (magic number)");
      if (!MAGIC_NUMBER.equals(asBig(magic))) {
        throw new CheckpointException(Kind.NOT_A_CHECKPOINT,
            where + " is a pickle but not a torch.save file: its first"
            + " value is not torch's magic number");
      }
      Object protocol = Pickles.load(buf, GlobalResolver.refuseAll(), null,
          where + " (protocol version)");
      if (!Long.valueOf(PROTOCOL_VERSION).equals(protocol)) {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
            where + " has legacy protocol version " + protocol
            + ", ckpt4j reads " + PROTOCOL_VERSION);
      }
      Object sysInfo = Pickles.load(buf, GlobalResolver.refuseAll(), null, where + " (sys_info)");
      if (sysInfo instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
            where + " was saved on a big-endian machine, which ckpt4j"
            + " does not read");
      }
      StorageTable storages = new StorageTable(where);
      PersistentLoader pids = pid -> {
        if (pid instanceof PyTuple t && !t.isEmpty() && MODULE_TAG.equals(t.get(0))) {
          // ('module', container_type, source_file, source): old whole-model saves name the class.
          if (t.size() < 2) throw new CheckpointException(Kind.MALFORMED_PICKLE,
              "bad module persistent id in " + where);
          return t.get(1);
        }
        return storages.resolve(pid);
      };
      Object root = Pickles.load(buf, resolver, pids, where);
      Object keys = Pickles.load(buf, GlobalResolver.refuseAll(), null, where + " (storage keys)");
      bindStorages(file, channel, buf.position(), size, keys, storages, where);
      return new Loaded(Format.LEGACY, root, storages.roots().values());
    } catch (IOException e) {
      if (e instanceof CheckpointException c) throw c;
      throw new CheckpointException(Kind.IO, "cannot read " + where + ": " + e.getMessage(), e);
    }
  }

  private static void bindStorages(Path file, FileChannel channel, long start, long size,
      Object keys, StorageTable storages, String where) throws IOException {
    if (!(keys instanceof List<?> list)) {
      throw new CheckpointException(Kind.INVALID_TENSOR, "the storage key list of " + where + " is "
          + PythonTypes.name(keys) + ", expected a list");
    }
    ByteBuffer header = ByteBuffer.allocate(STORAGE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    long pos = start;
    for (Object k : list) {
      String key = k instanceof String s ? s : String.valueOf(k);
      StorageRef ref = storages.roots().get(key);
      if (ref == null) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            "storage key " + key + " listed in " + where
            + " is not used by any tensor");
      }
      if (ref.source() != null) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            "storage key " + key + " is listed twice in " + where);
      }
      if (size - pos < STORAGE_HEADER_BYTES) {
        throw new CheckpointException(Kind.TRUNCATED,
            where + " ends at byte " + size + " before storage " + key
            + " (truncated file)");
      }
      header.clear();
      while (header.hasRemaining()) {
        if (channel.read(header, pos + header.position()) < 0) break;
      }
      // storage record: int64 numel (elements of the storage's dtype), then the bytes
      long numel = header.flip().getLong();
      long itemSize = ref.dtype() == null ? 1 : ref.dtype().itemSize();
      long expected = ref.nbytes() / itemSize;
      if (numel != expected) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            "storage " + key + " at byte " + pos + " of " + where
            + " holds " + numel + " elements but the pickle declares " + expected);
      }
      long data = pos + STORAGE_HEADER_BYTES;
      if (size - data < ref.nbytes()) {
        throw new CheckpointException(Kind.TRUNCATED,
            "storage " + key + " at byte " + data + " of " + where
            + " needs " + ref.nbytes() + " bytes but the file ends at " + size
            + " (truncated file)");
      }
      ref.bind(new StorageRef.FileRange(file, data));
      pos = data + ref.nbytes();
    }
    for (StorageRef ref : storages.roots().values()) {
      if (ref.source() == null) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            "storage " + ref.key() + " is used in " + where
            + " but its bytes are not in the file (missing from the storage key list)");
      }
    }
  }

  private static BigInteger asBig(Object v) {
    if (v instanceof BigInteger b) return b;
    if (v instanceof Long l) return BigInteger.valueOf(l);
    return null;
  }
}
