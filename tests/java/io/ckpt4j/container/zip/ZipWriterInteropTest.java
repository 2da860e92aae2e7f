package io.ckpt4j.container.zip;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.container.PythonCases;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rewrites Python-made archives with {@link ZipWriter} and has Python check the result: zipfile
 * reads it with good CRCs and the same entries, every data offset is aligned, zip64 end records
 * are present exactly when expected, and torch.load (with and without mmap) or torch.jit.load
 * gives the same tensors as the original.
 */
class ZipWriterInteropTest {
  @TempDir Path out;

  private final List<Map<String, Object>> items = new ArrayList<>();

  private void rewrite(String source, String target, int alignment, boolean forceZip64,
      boolean expectZip64, String kind) throws Exception {
    Path from = PythonCases.generated(source);
    try (ZipArchive zip = ZipArchive.open(from);
        ZipWriter writer = ZipWriter.create(out.resolve(target), alignment, forceZip64)) {
      for (ZipEntry e : zip.entries()) {
        if (e.isStored()) {
          // Stream straight from the source file, as the tensor layer does from native memory.
          writer.writeEntry(e.name(), e.size(), channel -> {
            long done = 0;
            while (done < e.size()) {
              done += zip.channel().transferTo(e.dataOffset() + done, e.size() - done, channel);
            }
          });
        } else {
          writer.writeEntry(e.name(), zip.read(e, ZipArchive.MAX_IN_MEMORY_ENTRY));
        }
      }
    }
    Map<String, Object> item = new LinkedHashMap<>();
    item.put("type", "zip");
    item.put("file", target);
    item.put("source", from.toAbsolutePath().toString());
    item.put("alignment", alignment);
    item.put("zip64", expectZip64);
    item.put("kind", kind);
    items.add(item);
  }

  @Test
  @Timeout(600)
  void pythonReadsWhatJavaWrites() throws Exception {
    rewrite("torch_save.pt", "torch_save_64.pt", 64, false, false, "torch_save");
    rewrite("torch_save.pt", "torch_save_zip64.pt", 64, true, true, "torch_save");
    rewrite("torch_save.pt", "torch_save_4096.pt", 4096, false, false, "torch_save");
    rewrite("torch_save_stream.pt", "torch_save_stream.pt", 64, false, false, "torch_save");
    rewrite("deflated.zip", "inflated.pt", 64, false, false, "torch_save");
    rewrite("torchscript.pt", "torchscript.pt", 64, false, false, "torchscript");
    rewrite("torchscript.pt", "torchscript_zip64.pt", 64, true, true, "torchscript");
    rewrite("utf8_names.zip", "utf8_names.zip", 64, true, true, "other");
    rewrite("many_entries.zip", "many_entries.zip", 64, false, true, "other");
    PythonCases.writeJson(out.resolve("java_manifest.json"), items);
    String report = PythonCases.checkWithPython(out);
    assertTrue(report.contains("ok torch_save_zip64.pt"), report);
  }
}
