package org.internvl4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {
    @Test
    void executorsGetTheVectorModuleAndOneComputeThreadPerCore() {
        SparkConf conf = new SparkConf(false).set("spark.executor.cores", "3").set("spark.jars", "given.jar");
        ClusterSettings.apply(conf, new PrintWriter(new StringWriter()));
        assertThat(conf.get("spark.executor.extraJavaOptions"))
                .isEqualTo("--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dinternvl.threads=3");
        assertThat(conf.get("spark.jars")).isEqualTo("given.jar");
    }

    @Test
    void theUsersOwnSettingsAreKept() {
        SparkConf conf = new SparkConf(false).set("spark.executor.cores", "2")
                .set("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector -Dinternvl.threads=1 -Xss4m")
                .set("spark.jars", "x.jar");
        ClusterSettings.apply(conf, new PrintWriter(new StringWriter()));
        assertThat(conf.get("spark.executor.extraJavaOptions"))
                .isEqualTo("--add-modules jdk.incubator.vector -Dinternvl.threads=1 -Xss4m");
    }
}
