"""Ready-to-run pipelines built from the standard components (``gnomon.pipelines.components``)."""
