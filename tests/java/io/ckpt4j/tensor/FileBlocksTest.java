package io.ckpt4j.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.value.StorageRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How storages of a real torch.save file are grouped into blocks read by one native call. */
class FileBlocksTest {
  @Test
  void oneBlockPerFileUnlessABlockWouldPassTheMaximum() throws Exception {
    Path file = TestData.dir("corpus").resolve("dtypes_all.pt");
    List<StorageRef> storages = CheckpointLoader.describe(file, LoadOptions.defaults()).storages();
    assertTrue(storages.size() > 3, "the fixture has several storages");

    assertEquals(1, new FileBlocks(storages).blocks().size(), "back-to-back storages, one block");

    long largest = storages.stream().mapToLong(StorageRef::nbytes).max().orElseThrow();
    FileBlocks capped = new FileBlocks(storages, largest);
    assertTrue(capped.blocks().size() > 1);
    List<StorageRef> seen = new ArrayList<>();
    long previousEnd = 0;
    for (FileBlocks.Block b : capped.blocks()) {
      assertTrue(b.length() <= largest || b.storages().size() == 1, "block of " + b.length());
      assertTrue(b.offset() >= previousEnd, "blocks overlap or are out of order");
      previousEnd = b.offset() + b.length();
      seen.addAll(b.storages());
    }
    assertEquals(storages.size(), seen.size(), "every storage in exactly one block");
    assertTrue(seen.containsAll(storages));
  }
}
