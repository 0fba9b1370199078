"""Tests of the REST adapter over HTTP against real servers."""
