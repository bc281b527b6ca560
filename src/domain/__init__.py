"""berth.domain"""
