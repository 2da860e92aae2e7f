package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.TorchZip;
import io.ckpt4j.layout.dcp.DcpLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Tells a checkpoint's format from its first bytes, as torch.load decides it. A zip is opened and
 * classified once; the open archive goes to its reader with the verdict ({@link Sniffed}).
 */
final class FormatSniffer {
  /** Enough for every signature below (tar's sits at 257). */
  private static final int HEAD_BYTES = 512;
  /** Zip local file header signature "PK\3\4". */
  private static final int ZIP_LOCAL_SIGNATURE = 0x04034b50;
  /** Zip end of central directory signature "PK\5\6" (an empty zip starts with it). */
  private static final int ZIP_EMPTY_SIGNATURE = 0x06054b50;
  /** safetensors: u64 header length, then a JSON object. The crate caps the header at 100 MB. */
  private static final long SAFETENSORS_MAX_HEADER = 100_000_000L;
  private static final int SAFETENSORS_PREFIX = Long.BYTES;
  /** POSIX tar magic, at byte 257: torch.save's very first format (before torch 0.4). */
  private static final int TAR_MAGIC_OFFSET = 257;
  private static final String TAR_MAGIC = "ustar";
  private static final int SHOWN_BYTES = 8;

  private FormatSniffer() {}

  /** A format, and for the zip kinds the archive already opened and classified (else null). */
  record Sniffed(Format format, TorchZip zip) implements AutoCloseable {
    @Override
    public void close() throws CheckpointException {
      if (zip != null) zip.archive().close();
    }
  }

  /** The format of {@code file}; the caller closes the result (it may hold the open zip). */
  static Sniffed sniff(Path file, FileChannel channel) throws IOException {
    ByteBuffer head = CheckpointLoader.head(channel, HEAD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int n = head.remaining();
    if (n == 0) throw new CheckpointException(Kind.NOT_A_CHECKPOINT,
        file + " is empty: not a checkpoint");
    // By name, first: a shard's bytes start as anything (a torch.save zip of an entry, floats).
    if (DcpLayout.isDataFileName(file)) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          file + " is one data file of a torch.distributed.checkpoint (DCP) directory and holds"
          + " no checkpoint alone: open its directory " + file.toAbsolutePath().getParent()
          + " instead (what torch.distributed.checkpoint.load reads)");
    }
    if (n >= 4 && (head.getInt(0) == ZIP_LOCAL_SIGNATURE || head.getInt(0) == ZIP_EMPTY_SIGNATURE)) {
      return ZipCheckpointReader.classify(file);
    }
    if (n > SAFETENSORS_PREFIX) {
      long headerLength = head.getLong(0);
      if (headerLength > 1 && headerLength <= SAFETENSORS_MAX_HEADER
          && head.get(SAFETENSORS_PREFIX) == '{') {
        return new Sniffed(Format.SAFETENSORS, null);
      }
    }
    if (n >= TAR_MAGIC_OFFSET + TAR_MAGIC.length() && TAR_MAGIC.equals(new String(head.array(),
        TAR_MAGIC_OFFSET, TAR_MAGIC.length(), StandardCharsets.US_ASCII))) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          file + " is a tar archive: torch.save's tar format (torch 0.1.9 and earlier; 0.1.10"
          + " replaced it in 2017) is not supported; load it in Python with"
          + " torch.load(f, weights_only=False) if you trust it, and torch.save it again");
    }
    if (LegacyReader.looksLegacy(head, file.toString())) return new Sniffed(Format.LEGACY, null);
    if (head.get(0) == (byte) 0x80 || isLegacyCandidate(head)) {
      // Parse far enough to give the real reason (a refused global, a bad opcode...).
      LegacyReader.read(file, channel, CheckpointGlobals.resolver(LoadOptions.defaults()));
    }
    byte[] shown = new byte[Math.min(n, SHOWN_BYTES)];
    head.get(0, shown);
    throw new CheckpointException(Kind.NOT_A_CHECKPOINT,
        file + " is not a PyTorch checkpoint: it starts with bytes "
        + HexFormat.ofDelimiter(" ").formatHex(shown) + ", which is neither a zip (torch >= 1.6),"
        + " a legacy torch.save pickle nor safetensors");
  }

  /** Opcodes a protocol 0/1 pickle may start with (the legacy magic number is a LONG, 'L'). */
  private static final String PROTOCOL_0_FIRST_OPCODES = "LIFVSNcip()]}";

  private static boolean isLegacyCandidate(ByteBuffer head) {
    return PROTOCOL_0_FIRST_OPCODES.indexOf((char) (head.get(0) & 0xFF)) >= 0;
  }
}
