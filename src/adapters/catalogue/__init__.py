"""berth.adapters.catalogue: the catalogue read model's writer and queries."""
