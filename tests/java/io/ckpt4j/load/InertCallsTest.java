package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.value.PyObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code LoadOptions.inertObjects(true)} constructs classes inert and calls only the
 * reconstructors whole-model pickles use: files made by tests/python/make_scan.py that REDUCE
 * torch.load, numpy.load or os.system (torch.load(weights_only=False) calls them) are refused with
 * {@link Kind#REFUSED_GLOBAL}, and a whole pickled model still loads.
 */
class InertCallsTest {
  private static final LoadOptions INERT = LoadOptions.defaults().inertObjects(true);

  @TestFactory
  Stream<DynamicTest> inertReadRefusesCalls() {
    Path dir = TestData.dir("scan");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : TestData.manifest("scan").get("cases")) {
      if (!c.has("inert_load")) continue;
      Path file = dir.resolve(c.get("file").asText());
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        if (c.get("inert_load").asText().equals("loads")) {
          CheckpointTree tree = CheckpointLoader.describe(file, INERT);
          assertTrue(tree.root() instanceof PyObject, String.valueOf(tree.root()));
          return;
        }
        CheckpointException e = Refusals.assertRefused(Kind.REFUSED_GLOBAL,
            () -> CheckpointLoader.describe(file, INERT), c.get("what").asText());
        assertTrue(e.getMessage().contains("suggests no way to read it"), e.getMessage());
      }));
    }
    assertEquals(4, tests.size(), "inert cases in the scan manifest");
    return tests.stream();
  }

  @Test
  void classesAreCallableFunctionsAreNot() {
    assertTrue(GlobalPolicy.mayCall("argparse.Namespace"));
    assertTrue(GlobalPolicy.mayCall("torch.distributed.checkpoint.metadata._MEM_FORMAT_ENCODING"));
    assertTrue(GlobalPolicy.mayCall("numpy.core.multiarray._reconstruct"));
    assertTrue(GlobalPolicy.mayCall("builtins.getattr"));
    assertTrue(!GlobalPolicy.mayCall("torch.load"));
    assertTrue(!GlobalPolicy.mayCall("numpy.load"));
    assertTrue(!GlobalPolicy.mayCall("asyncio.unix_events._UnixSubprocessTransport._start"));
  }
}
