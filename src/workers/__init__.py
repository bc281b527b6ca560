"""berth.workers"""
