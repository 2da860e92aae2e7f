package io.ckpt4j.scan;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.container.zip.TorchZip;
import io.ckpt4j.container.zip.ZipAnomalyException;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.container.zip.ZipEntry;
import io.ckpt4j.container.zip.ZipGaps;
import io.ckpt4j.load.Format;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The zip part of a scan: the archive opened by the loader's reader (which refuses the container
 * tricks), then what that reader accepts but torch.save never writes — unusual flags, a deflated
 * pickle, local headers no central record names, a constants.pkl without TorchScript code — and
 * every entry that holds a pickle, whatever its name.
 */
final class ZipScan {
  /** A pickle entry is read whole up to this size (the loader's data.pkl limit). */
  private static final long MAX_PICKLE_BYTES = 1L << 30;
  /** Where the end record of a zip must lie: its 22 bytes and a comment of up to 65535. */
  private static final int END_RECORD_SEARCH = 22 + 0xFFFF;
  private static final int END_RECORD_SIGNATURE = 0x06054b50;
  private static final int HEAD = 2;

  private ZipScan() {}

  /** Scans the zip {@code file}; {@code format} is null for a zip that is not torch's. */
  static FileReport scan(Path file, Format format, FileAudit audit) {
    try (ZipArchive zip = ZipArchive.open(file)) {
      TorchZip torch = TorchZip.inspect(zip);
      String prefix = torch.root().isEmpty() ? "" : torch.root() + "/";
      for (long at : ZipGaps.hiddenLocalHeaders(zip)) {
        audit.add(FindingKind.HIDDEN_LOCAL_HEADER, file.toString(),
            "a local header signature at byte " + at + " that no central record names");
      }
      long previous = -1;
      boolean ordered = true;
      long deflated = 0;
      long inflatedBytes = 0;
      long compressedBytes = 0;
      for (ZipEntry e : zip.entries()) {
        if (!e.isStored() && e.name().startsWith(prefix + TorchZip.STORAGE_PREFIX)) {
          deflated++;
          inflatedBytes = Math.addExact(inflatedBytes, e.size());
          compressedBytes = Math.addExact(compressedBytes, e.compressedSize());
        }
        if (ordered && e.localHeaderOffset() < previous) {
          ordered = false; // one finding per archive
          audit.add(FindingKind.OUT_OF_ORDER, where(file, e), "listed after an entry that lies"
              + " behind it (local header at byte " + e.localHeaderOffset() + ")");
        }
        previous = e.localHeaderOffset();
        if (e.unusualFlags() != 0) {
          audit.add(FindingKind.ZIP_FLAGS, where(file, e),
              String.format("general-purpose flags 0x%04x", e.flags()));
        }
      }
      if (deflated > 0) { // one finding per archive
        audit.add(FindingKind.DEFLATED_STORAGE, file.toString(), deflated + " storage record"
            + (deflated == 1 ? "" : "s") + " deflated: " + inflatedBytes + " bytes declared from "
            + compressedBytes + " compressed");
      }
      boolean script = format == Format.TORCHSCRIPT;
      boolean genuine = script && zip.entries().stream()
          .anyMatch(e -> e.name().startsWith(prefix + TorchZip.CODE_PREFIX));
      if (script) {
        audit.add(genuine ? FindingKind.TORCHSCRIPT : FindingKind.FAKE_TORCHSCRIPT,
            file.toString(), genuine ? "code under " + prefix + TorchZip.CODE_PREFIX
            : "no " + prefix + TorchZip.CODE_PREFIX + " records");
      }
      if (format == Format.AOTINDUCTOR) {
        audit.add(FindingKind.COMPILED_CODE, file.toString(), "an AOTInductor package");
      }
      Set<String> torchReads = format == Format.ZIP || script
          ? Set.of(prefix + TorchZip.DATA_PKL, prefix + TorchZip.CONSTANTS_PKL) : Set.of();
      for (ZipEntry e : zip.entries()) {
        scanEntry(zip, e, torchReads.contains(e.name()), genuine, audit);
      }
    } catch (ZipAnomalyException e) {
      audit.add(FindingKind.of(e.anomaly()), file.toString(), e.getMessage());
    } catch (CheckpointException e) {
      audit.add(FindingKind.INCOMPLETE, file.toString(), e.getMessage());
    }
    if (format == Format.ZIP && !audit.unsafe()) CheckpointScanner.checkTensors(file, audit);
    return audit.report(format == null ? "zip" : format.jsonName(), loader(format));
  }

  private static String loader(Format format) {
    if (format == null) return "torch.load's zip reader (it finds no data.pkl)";
    return switch (format) {
      case TORCHSCRIPT -> "torch.jit.load (torch.load hands TorchScript archives to it)";
      case PT2 -> "torch.export.load";
      case AOTINDUCTOR -> "torch._inductor.aoti_load_package";
      case LIBTORCH -> "LibTorch C++ torch::load";
      default -> "torch.load's zip reader";
    };
  }

  private static String where(Path file, ZipEntry e) {
    return file + ":" + e.name();
  }

  /** Scans an entry named like a pickle, or whose first bytes are a protocol 2+ pickle's. */
  private static void scanEntry(ZipArchive zip, ZipEntry e, boolean torchReads,
      boolean torchScript, FileAudit audit) throws CheckpointException {
    String where = where(zip.path(), e);
    boolean named = e.name().endsWith("pkl");
    if (!named && !(e.isStored() && startsLikePickle(zip, e))) return;
    if (torchReads && !e.isStored()) {
      audit.add(FindingKind.DEFLATED_PICKLE, where, "compression method " + e.method());
    }
    ByteBuffer bytes = zip.read(e, MAX_PICKLE_BYTES, "a pickle");
    new PickleAudit(audit, where, torchReads, torchScript).run(bytes, Integer.MAX_VALUE);
  }

  private static boolean startsLikePickle(ZipArchive zip, ZipEntry e) throws CheckpointException {
    if (e.size() < HEAD) return false;
    ByteBuffer head = ByteBuffer.allocate(HEAD);
    try {
      zip.channel().read(head, e.dataOffset());
    } catch (IOException io) {
      throw new CheckpointException(CheckpointException.ioKind(io),
          "cannot read " + where(zip.path(), e) + ": " + io.getMessage(), io);
    }
    return HeadBytes.looksLikeBinaryPickle(head.flip());
  }

  /** A pickle-led file with a zip end record at its end: torch takes the legacy path. */
  static void checkTrailingZip(Path file, FileAudit audit) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      int n = (int) Math.min(size, END_RECORD_SEARCH);
      ByteBuffer tail = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
      while (tail.hasRemaining() && channel.read(tail, size - n + tail.position()) > 0) {
        // read the tail whole
      }
      for (int i = n - Integer.BYTES; i >= 0; i--) {
        if (tail.getInt(i) == END_RECORD_SIGNATURE) {
          audit.add(FindingKind.PICKLE_BEFORE_ZIP, file.toString(), "a zip end record at byte "
              + (size - n + i) + " behind the pickle that starts the file");
          return;
        }
      }
    } catch (IOException e) {
      audit.add(FindingKind.INCOMPLETE, file.toString(), "cannot read it: " + e.getMessage());
    }
  }
}
