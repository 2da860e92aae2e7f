package io.ckpt4j.scan;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.ZipAnomalyException;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.Format;
import io.ckpt4j.load.LoadOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Scans checkpoint files for what would run or mislead when {@code torch.load} opens them, without
 * running anything or reading tensor bytes: the container as torch's reader sees it (anomalies
 * are refused by the same readers that load uses, with the same error kinds), every pickle's
 * globals and call sites through the loader's pickle machine, and the tensors' declared sizes
 * against their records through the loader's own checks.
 *
 * <pre>{@code
 * ScanReport report = CheckpointScanner.scan(Path.of("uploads/model.bin"));
 * if (report.verdict() != Verdict.SAFE) reject(report);
 * }</pre>
 *
 * <p>Thread safety: stateless; scans may run in parallel.
 */
public final class CheckpointScanner {
  /** The bytes of a file read as its leading pickles at most (a legacy file's pickle region). */
  static final long MAX_PICKLE_REGION = Integer.MAX_VALUE;
  /** A legacy file: magic number, protocol version, sys_info, the object, the storage keys. */
  private static final int LEGACY_PICKLES = 5;
  /** A plain pickle file: torch reads the first; a scan reads on as far as pickles go. */
  private static final int MAX_TRAILING_PICKLES = 64;
  private static final String LEGACY_LOADER = "torch.load's legacy reader (_legacy_load)";

  private CheckpointScanner() {}

  /** Scans each path: a file, or a directory and every file below it (one report for all). */
  public static ScanReport scan(Path... paths) throws CheckpointException {
    List<FileReport> files = new ArrayList<>();
    for (Path path : paths) {
      if (Files.isDirectory(path)) {
        for (Path file : filesBelow(path)) files.add(scanFile(file));
      } else {
        files.add(scanFile(path));
      }
    }
    return new ScanReport(files);
  }

  private static List<Path> filesBelow(Path dir) throws CheckpointException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new CheckpointException(CheckpointException.ioKind(e),
          "cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Scans one file; never throws for what the file holds (that is a finding). */
  public static FileReport scanFile(Path file) {
    FileAudit audit = new FileAudit(file);
    String name = file.getFileName() == null ? "" : file.getFileName().toString();
    if (DcpLayout.isDataFileName(file)) {
      audit.add(FindingKind.DCP_DATA, file.toString(), "read through its directory's .metadata");
      return audit.report("dcp data", "torch.distributed.checkpoint.load");
    }
    if (DcpLayout.isMetadataName(file) || name.endsWith(".json")) {
      return scanUnsniffed(file, audit, null);
    }
    Format format;
    try {
      format = CheckpointLoader.detect(file);
    } catch (ZipAnomalyException e) {
      audit.add(FindingKind.of(e.anomaly()), file.toString(), e.getMessage());
      return audit.report("zip", "torch.load's zip reader");
    } catch (CheckpointException e) {
      return scanUnsniffed(file, audit, e);
    }
    return switch (format) {
      case ZIP, TORCHSCRIPT, PT2, AOTINDUCTOR, LIBTORCH -> ZipScan.scan(file, format, audit);
      case LEGACY -> {
        scanPickles(file, audit, LEGACY_PICKLES);
        if (!audit.unsafe()) checkTensors(file, audit);
        yield audit.report("legacy", LEGACY_LOADER);
      }
      case SAFETENSORS -> {
        checkTensors(file, audit);
        yield audit.report("safetensors", "safetensors (torch.load does not read it)");
      }
      case HF_SHARDED, DCP -> audit.report("not a checkpoint", "none");
    };
  }

  /** A file the sniffer refused (or a metadata file): a pickle by its bytes, or no checkpoint. */
  private static FileReport scanUnsniffed(Path file, FileAudit audit, CheckpointException e) {
    ByteBuffer head;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      head = ByteBuffer.allocate((int) Math.min(HeadBytes.HEAD_BYTES, channel.size()));
      while (head.hasRemaining() && channel.read(head, head.position()) > 0) {
        // read the head whole
      }
      head.flip();
    } catch (IOException io) {
      audit.add(FindingKind.INCOMPLETE, file.toString(), "cannot read it: " + io.getMessage());
      return audit.report("unknown", "none");
    }
    boolean dcp = DcpLayout.isMetadataName(file);
    if (HeadBytes.looksLikePickle(head)) {
      int read = scanPickles(file, audit, dcp ? 1 : MAX_TRAILING_PICKLES);
      if (read >= 0 || dcp) {
        if (!dcp) ZipScan.checkTrailingZip(file, audit);
        return audit.report(dcp ? "dcp" : "pickle", dcp ? "torch.distributed.checkpoint.load"
            : LEGACY_LOADER + ", which unpickles the first pickle before it checks the magic"
            + " number");
      }
    }
    if (HeadBytes.looksLikeZip(head)) return ZipScan.scan(file, null, audit);
    if (HeadBytes.looksLikeTar(head)) {
      audit.add(FindingKind.INCOMPLETE, file.toString(), "torch.save's tar format (torch 0.1.9"
          + " and earlier): its pickles are not scanned");
      return audit.report("legacy tar", "torch.load's legacy tar reader");
    }
    if (e == null || e.kind() == Kind.NOT_A_CHECKPOINT) {
      return audit.report("not a checkpoint", "none");
    }
    audit.add(e.kind() == Kind.MALFORMED_CONTAINER ? FindingKind.CONTAINER_REFUSED
        : FindingKind.INCOMPLETE, file.toString(), e.getMessage());
    return audit.report("unknown", "none");
  }

  /** Runs up to {@code maxPickles} pickles from the file's start; -1 when it holds none. */
  static int scanPickles(Path file, FileAudit audit, int maxPickles) {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer region = channel.map(FileChannel.MapMode.READ_ONLY, 0,
          Math.min(channel.size(), MAX_PICKLE_REGION));
      return new PickleAudit(audit, file.toString(), true, false).run(region, maxPickles);
    } catch (IOException e) {
      audit.add(FindingKind.INCOMPLETE, file.toString(), "cannot read it: " + e.getMessage());
      return 0;
    }
  }

  /**
   * The loader's own structure checks (storage sizes against records, offsets and strides within
   * storages), reading no tensor bytes: the file is described with inert objects.
   */
  static void checkTensors(Path file, FileAudit audit) {
    try {
      CheckpointLoader.describe(file, LoadOptions.defaults().inertObjects(true));
    } catch (ZipAnomalyException e) {
      audit.add(FindingKind.of(e.anomaly()), file.toString(), e.getMessage());
    } catch (CheckpointException e) {
      FindingKind kind = switch (e.kind()) {
        case INVALID_TENSOR, TRUNCATED -> FindingKind.SIZE_LIE;
        case UNSUPPORTED_FORMAT, UNSUPPORTED_VALUE -> FindingKind.UNCHECKED_TENSORS;
        case REFUSED_GLOBAL -> FindingKind.UNKNOWN_CALL;
        case MALFORMED_PICKLE, MALFORMED_CONTAINER, INVALID_VALUE -> FindingKind.MALFORMED;
        default -> FindingKind.INCOMPLETE;
      };
      audit.add(kind, file.toString(), e.getMessage());
    }
  }
}
