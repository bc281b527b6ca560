"""berth.http"""
