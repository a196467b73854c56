"""`multigan bench`: benchmark GAN families across modalities (suites, runner, report); stability holds the
per-seed spread and collapse rules the report uses."""
