"""berth.projections"""
