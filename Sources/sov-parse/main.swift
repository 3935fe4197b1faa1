import SOVCLI

ParseCommand.main()
