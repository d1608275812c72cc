"""Helpers shared by the test suites: throwaway servers, free ports."""
