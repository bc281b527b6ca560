"""berth.adapters"""
