; Spare's Windows installer (NSIS), built on Linux by build-installer.sh:
;   makensis -DVERSION=1.2.3 -DAPP=spare.exe -DDISTRO=spare-wsl.tar -DOUT=spare-setup.exe \
;     -DLICENSE=LICENSE.txt -DNOTICES=NOTICES.txt spare.nsi
; The licence page shows Spare's licence (Apache-2.0); LICENSE.txt and
; NOTICES.txt (the licences of the libraries in spare.exe) are installed
; beside the app. The distribution's Debian packages carry theirs in its
; /usr/share/doc/*/copyright.
; Per user, no administrator rights: the app goes to
; %LOCALAPPDATA%\Programs\Spare with the WSL distribution's image beside
; it (the app imports it as the distribution "Spare" on first run), and
; starts at login through HKCU's Run key (the value autostart/ reads).
; WSL itself is a Windows feature: when it is missing the installer asks,
; and with consent runs `wsl --install --no-distribution` elevated, which
; needs a restart. Silent (/S) installs never enable it: /ENABLEWSL asks
; for it explicitly.
; Uninstall copies the daemon's wallet out of the distribution to
; %LOCALAPPDATA%\Spare\wallet, unregisters the distribution, and says
; where the wallet is.

Unicode true
Target amd64-unicode
!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef LICENSE | NOTICES
  !error "build with build-installer.sh: it passes LICENSE and NOTICES"
!endif
!ifndef OUT
  !define OUT "spare-setup.exe"
!endif
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Spare"
!define DISTRO_NAME "Spare"
!define WALLET_KEPT "$LOCALAPPDATA\Spare\wallet"

Name "Spare"
OutFile "${OUT}"
InstallDir "$LOCALAPPDATA\Programs\Spare"
RequestExecutionLevel user
SetCompressor /SOLID lzma
ShowInstDetails show
ShowUninstDetails show

!include "LogicLib.nsh"
!include "FileFunc.nsh"

LicenseData "${LICENSE}"
LicenseText "Spare is free software under the Apache License 2.0. The licences of the libraries it includes are installed beside it, in NOTICES.txt." "Next >"

Page license
Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Function .onInit
  ; A 64-bit app: install into the 64-bit view of the registry.
  SetRegView 64
FunctionEnd

Section "Spare"
  SetOutPath "$INSTDIR"
  File "/oname=spare.exe" "${APP}"
  File "/oname=LICENSE.txt" "${LICENSE}"
  File "/oname=NOTICES.txt" "${NOTICES}"
  !ifdef DISTRO
    SetOutPath "$INSTDIR\distro"
    File "/oname=spare-wsl.tar" "${DISTRO}"
  !endif
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${RUNKEY}" "Spare" '"$INSTDIR\spare.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "Spare"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "Spare"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" '"$INSTDIR\spare.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0

  CreateShortCut "$SMPROGRAMS\Spare.lnk" "$INSTDIR\spare.exe"

  ; WSL: installed when `wsl.exe --status` answers.
  nsExec::ExecToLog '"$SYSDIR\wsl.exe" --status'
  Pop $0
  ${If} $0 != 0
    ${GetParameters} $1
    ClearErrors
    ${GetOptions} $1 "/ENABLEWSL" $2
    ${If} ${Errors}
      ${If} ${Silent}
        DetailPrint "WSL2 is not installed: Spare will say how to install it when it opens."
        Goto wsl_done
      ${EndIf}
      MessageBox MB_YESNO|MB_ICONQUESTION "Spare runs jobs in WSL2, which is not installed.$\r$\n$\r$\nInstall it now? Windows asks for administrator rights, and the PC must restart before Spare can earn." IDYES wsl_enable
      Goto wsl_done
    ${EndIf}
  wsl_enable:
    ExecShellWait "runas" "$SYSDIR\wsl.exe" "--install --no-distribution" SW_SHOWNORMAL
    DetailPrint "WSL2 is being installed: restart Windows, then open Spare."
    ${IfNot} ${Silent}
      MessageBox MB_OK|MB_ICONINFORMATION "Restart Windows to finish installing WSL2, then open Spare."
    ${EndIf}
  ${EndIf}
  wsl_done:
SectionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "Uninstall"
  ; Stop the app, keep the wallet, then remove the distribution.
  nsExec::ExecToLog 'taskkill /IM spare.exe /F'
  Pop $0
  CreateDirectory "${WALLET_KEPT}"
  nsExec::ExecToLog '"$SYSDIR\wsl.exe" -d ${DISTRO_NAME} -- sh -c "cp -a /var/lib/spare/wallet/. \"$$(wslpath -u \"$$1\")\"" sh "${WALLET_KEPT}"'
  Pop $0
  ${If} $0 == 0
    nsExec::ExecToLog '"$SYSDIR\wsl.exe" --unregister ${DISTRO_NAME}'
    Pop $0
    DetailPrint "Your wallet (keys and records) is kept in ${WALLET_KEPT}"
    ${IfNot} ${Silent}
      MessageBox MB_OK|MB_ICONINFORMATION "Spare is removed. Your wallet (keys and records) is kept in:$\r$\n${WALLET_KEPT}"
    ${EndIf}
  ${Else}
    ; No distribution, or its wallet could not be read: keep the
    ; distribution rather than lose money.
    DetailPrint "The Spare distribution was not removed: its wallet could not be copied out (wsl.exe exit $0). Remove it with: wsl --unregister ${DISTRO_NAME}"
    RMDir "${WALLET_KEPT}"
  ${EndIf}

  DeleteRegValue HKCU "${RUNKEY}" "Spare"
  DeleteRegKey HKCU "${UNINSTKEY}"
  Delete "$SMPROGRAMS\Spare.lnk"
  Delete "$INSTDIR\spare.exe"
  Delete "$INSTDIR\LICENSE.txt"
  Delete "$INSTDIR\NOTICES.txt"
  Delete "$INSTDIR\distro\spare-wsl.tar"
  RMDir "$INSTDIR\distro"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd
